"""Reports: build_report timed with many requests in the database."""
