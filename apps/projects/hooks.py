from apps.core.hooks import Hook

guideline_published = Hook(
    "guideline_published", "guideline_publish fired it with version=<GuidelineVersion>, in its transaction."
)
