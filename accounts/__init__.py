"""Users, groups run by their managers, API keys and sign-in."""
