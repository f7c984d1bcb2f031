"""Command dispatch: units, incidents, tasks, reminders, supervision."""
