"""Operations: request ids carried through every call, structured logs, Prometheus metrics."""
