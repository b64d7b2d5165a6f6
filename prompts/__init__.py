"""The versioned prompt files (TOML), shipped inside the package."""
