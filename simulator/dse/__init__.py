"""Design-space exploration: sweep specs, point evaluation, the results store, executors."""
