"""Crossline core: one ticket schema for every kind, workflows, tiers, access rules."""
from .celery import app as celery_app

__all__ = ("celery_app",)
