from apps.core.hooks import Hook

project_awarded = Hook("project_awarded", "award_create fired it with award=<Award>, actor=<User>, in its transaction.")
