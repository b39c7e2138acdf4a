"""Customer-service assistant: gateway, settings and the Rasa-side components.

This package is imported by both Python environments (the Rasa server on 3.10 and the app on
3.11), so its top level must stay free of heavy or SQLAlchemy-2 imports.
"""
