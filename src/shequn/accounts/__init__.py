"""Operator accounts: who may see and change which community, invitations, and API tokens."""
