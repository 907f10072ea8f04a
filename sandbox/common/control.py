"""Control API (/_sandbox) pieces both stand-ins share: errors, config, faults, webhook waits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request


class ControlError(Exception):
    """A control API error: plain `{"error": message}` with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def control_error(error: ControlError):
    """The response for a ControlError."""
    response = jsonify(error=error.message)
    response.status_code = error.status
    return response


def json_body() -> dict[str, Any]:
    """The request's JSON object ({} when empty)."""
    data = request.get_json(silent=True) if request.get_data(cache=True).strip() else {}
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def add_shared_routes(
    bp: Blueprint, current: Callable[[], Any], body: Callable[[], dict[str, Any]] = json_body
) -> None:
    """Register the ControlError handler and the config, faults and webhooks/wait routes."""
    bp.register_error_handler(ControlError, control_error)

    def get_config():
        return jsonify(current().config.public())

    def put_config():
        try:
            config = current().configure(**body())
        except (TypeError, ValueError) as exc:
            raise ControlError(400, str(exc)) from exc
        return jsonify(config.public())

    def get_faults():
        return jsonify(current().faults.current())

    def put_faults():
        try:
            current().faults.set(**body())
        except (TypeError, ValueError) as exc:
            raise ControlError(400, str(exc)) from exc
        return jsonify(current().faults.current())

    def delete_faults():
        current().faults.clear()
        return jsonify(current().faults.current())

    def wait_for_webhooks():
        """Block until every delivery and retry has finished (or `timeout` seconds passed)."""
        timeout = float(body().get("timeout", 10))
        return jsonify(idle=current().webhooks.wait_idle(timeout))

    bp.add_url_rule("/config", view_func=get_config, methods=["GET"])
    bp.add_url_rule("/config", view_func=put_config, methods=["PUT"])
    bp.add_url_rule("/faults", view_func=get_faults, methods=["GET"])
    bp.add_url_rule("/faults", view_func=put_faults, methods=["PUT"])
    bp.add_url_rule("/faults", view_func=delete_faults, methods=["DELETE"])
    bp.add_url_rule("/webhooks/wait", view_func=wait_for_webhooks, methods=["POST"])
