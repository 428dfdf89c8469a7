"""WebShop-style text shopping env (being built; see issue 6)."""
