"""The platform side: the account API client, its simulator, and the callback wire format."""
