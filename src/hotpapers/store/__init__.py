"""The store: schema, migrations and every query; nothing outside this package knows table names."""
