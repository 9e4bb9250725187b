"""What training jobs use: the offline taxonomy snapshot today; client, OOD rectification and samplers next."""
