"""A tiny shop backend: prices with discounts and tax, and a cart."""
