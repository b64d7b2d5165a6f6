"""The LLM path: config, transport, cache, prompt, answer schema, routing and re-asks, estimates."""
