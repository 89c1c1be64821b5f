"""HTTP layer: one blueprint per feature, each with `init_app(app)`. Routes stay thin."""
