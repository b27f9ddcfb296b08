"""Sources: one module per interface; each turns an API's answers into papers or mentions."""
