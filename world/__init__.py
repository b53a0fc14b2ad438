"""The sample world: a deterministic, dirty e-commerce company with known true KPIs."""
