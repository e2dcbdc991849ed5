"""Integration suite through the official TypeScript SDK (npm `inngest` v4)."""
