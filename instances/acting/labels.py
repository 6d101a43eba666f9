"""What each move is called and does, in on-call's words, whatever the vendor calls it."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "retry": (_("Retry failed steps"), _("Runs the failed steps again, in this same run.")),
    "retry_step": (_("Retry this step"), _("Runs this failed step again.")),
    "stop": (_("Stop"), _("Stops the run; its running steps end, the others will not start.")),
    "cancel_step": (_("Cancel this step"), _("Cancels this running step; it ends as failed.")),
    "skip_step": (_("Skip this step"), _("Marks this failed step successful and goes on.")),
    "rollback": (_("Roll back"), _("Undoes what the failed steps changed.")),
    "rerun": (_("Run again"), _("Starts a new run of this definition, now.")),
    "succeed_step": (
        _("Mark this step successful"),
        _("Sets this failed step successful, though it did not succeed: what waits on it may run."),
    ),
    "pause": (_("Pause the schedule"), _("No new run of this definition starts until it resumes.")),
    "resume": (_("Resume the schedule"), _("New runs of this definition start on schedule again.")),
}
