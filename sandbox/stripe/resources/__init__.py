"""One module per Stripe resource: a Blueprint with its routes and the services behind them."""
