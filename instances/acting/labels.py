"""What each move is called and does, in on-call's words, whatever the vendor calls it."""

LABELS = {
    "retry": ("Retry failed steps", "Runs the failed steps again, in this same run."),
    "retry_step": ("Retry this step", "Runs this failed step again."),
    "stop": ("Stop", "Stops the run; its running steps end, the others will not start."),
    "cancel_step": ("Cancel this step", "Cancels this running step; it ends as failed."),
    "skip_step": ("Skip this step", "Marks this failed step successful and goes on."),
    "rollback": ("Roll back", "Undoes what the failed steps changed."),
    "rerun": ("Run again", "Starts a new run of this definition, now."),
    "succeed_step": (
        "Mark this step successful",
        "Sets this failed step successful, though it did not succeed: what waits on it may run.",
    ),
    "pause": ("Pause the schedule", "No new run of this definition starts until it resumes."),
    "resume": ("Resume the schedule", "New runs of this definition start on schedule again."),
}
