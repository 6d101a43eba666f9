# Alerting became its own app (label "alerts"); its tables keep their names, so only
# Django's state moves: nothing is rebuilt.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('instances', '0020_trigram_index_per_part'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='alert',
                    name='alert_state_updated',
                ),
                migrations.RemoveConstraint(
                    model_name='alert',
                    name='one_firing_alert_per_key',
                ),
                migrations.RemoveField(
                    model_name='alertevent',
                    name='alert',
                ),
                migrations.RemoveField(
                    model_name='alertevent',
                    name='by',
                ),
                migrations.RemoveConstraint(
                    model_name='alertrule',
                    name='rule_name',
                ),
                migrations.RemoveConstraint(
                    model_name='channel',
                    name='channel_name',
                ),
                migrations.RemoveIndex(
                    model_name='delivery',
                    name='delivery_due',
                ),
                migrations.RemoveConstraint(
                    model_name='delivery',
                    name='one_message_per_event',
                ),
                migrations.RemoveField(
                    model_name='alert',
                    name='acknowledged_by',
                ),
                migrations.RemoveField(
                    model_name='alert',
                    name='backend',
                ),
                migrations.RemoveField(
                    model_name='alert',
                    name='rule',
                ),
                migrations.RemoveField(
                    model_name='alert',
                    name='run',
                ),
                migrations.RemoveField(
                    model_name='alert',
                    name='silenced_by',
                ),
                migrations.DeleteModel(
                    name='AlertEvent',
                ),
                migrations.RemoveField(
                    model_name='channel',
                    name='team',
                ),
                migrations.RemoveField(
                    model_name='delivery',
                    name='alert',
                ),
                migrations.RemoveField(
                    model_name='delivery',
                    name='channel',
                ),
                migrations.DeleteModel(
                    name='AlertRule',
                ),
                migrations.DeleteModel(
                    name='Alert',
                ),
                migrations.DeleteModel(
                    name='Channel',
                ),
                migrations.DeleteModel(
                    name='Delivery',
                ),
            ],
        ),
    ]
