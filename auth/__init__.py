"""Who a caller is: signed tokens of our own (email verification, sign-in links, customer
sessions) and, for teams with an identity provider, its OIDC tokens."""
