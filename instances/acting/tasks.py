"""Following accepted actions: each looks again every few seconds until it ends; beat's sweep
ends any whose chain was lost (a worker or the broker gone) once its deadline has passed."""

from celery import shared_task
from django.utils import timezone

from . import following, perform
from .models import Action


@shared_task(name=perform.FOLLOW_TASK, ignore_result=True)
def follow_action(action_id: int) -> None:
    if (again := following.follow(action_id)) is not None:
        follow_action.apply_async((action_id,), countdown=again)


@shared_task(name="instances.sweep_actions", ignore_result=True)
def sweep_actions() -> int:
    late = Action.objects.filter(state=Action.State.ACCEPTED, deadline__lt=timezone.now())
    ids = list(late.values_list("pk", flat=True)[:100])
    for action_id in ids:
        following.follow(action_id)
    return len(ids)
