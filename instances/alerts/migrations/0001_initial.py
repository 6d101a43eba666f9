# Alerting's models, moved from the instances app: their tables exist already on a database
# migrated before (instances 0015), so only Django's state and the content types move.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="instances", model__in=MODELS).update(app_label="alerts")


MODELS = ["alert", "alertevent", "alertrule", "channel", "delivery"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('instances', '0020_trigram_index_per_part'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=400)),
                        ('state', models.CharField(choices=[('firing', 'Firing'), ('resolved', 'Resolved')], default='firing', max_length=10)),
                        ('definition_id', models.CharField(blank=True, max_length=200)),
                        ('title', models.CharField(max_length=300)),
                        ('culprit', models.CharField(blank=True, max_length=300)),
                        ('signature', models.CharField(blank=True, max_length=200)),
                        ('error_line', models.TextField(blank=True)),
                        ('streak', models.PositiveIntegerField(default=1)),
                        ('occurrences', models.PositiveIntegerField(default=1)),
                        ('opened_at', models.DateTimeField()),
                        ('updated_at', models.DateTimeField()),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                        ('silenced_until', models.DateTimeField(blank=True, null=True)),
                        ('silence_reason', models.CharField(blank=True, max_length=300)),
                        ('acknowledged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('backend', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='instances.backend')),
                        ('run', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='instances.instance')),
                        ('silenced_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'instances_alert',
                    },
                ),
                migrations.CreateModel(
                    name='AlertEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField()),
                        ('what', models.CharField(choices=[('fired', 'Fired'), ('repeated', 'Repeated'), ('acknowledged', 'Acknowledged'), ('silenced', 'Silenced'), ('unsilenced', 'Silence lifted'), ('resolved', 'Resolved')], max_length=15)),
                        ('note', models.CharField(blank=True, max_length=500)),
                        ('alert', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='alerts.alert')),
                        ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'instances_alertevent',
                        'ordering': ['at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='AlertRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('kind', models.CharField(choices=[('failed', 'A run failed'), ('stuck', 'A run is stuck'), ('missing', 'A scheduled run is missing'), ('stale', 'A backend is stale or unreachable')], max_length=10)),
                        ('enabled', models.BooleanField(default=True)),
                        ('definition_id', models.CharField(blank=True, max_length=200)),
                        ('owner', models.CharField(blank=True, max_length=200)),
                        ('name_pattern', models.CharField(blank=True, help_text='shell-style, case-insensitive: nightly_*', max_length=200)),
                        ('after_failures', models.PositiveSmallIntegerField(default=1, help_text='fire on the Nth failure in a row')),
                        ('stuck_factor', models.FloatField(default=3.0, help_text='stuck when running this many times its usual duration')),
                        ('silent_minutes', models.PositiveIntegerField(default=0, help_text='or when nothing has changed in it for this long (0: never)')),
                        ('grace_minutes', models.PositiveIntegerField(default=30, help_text='missing when not started this long after its usual time')),
                        ('backend', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='instances.backend')),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_rules', to='auth.group')),
                    ],
                    options={
                        'db_table': 'instances_alertrule',
                    },
                ),
                migrations.AddField(
                    model_name='alert',
                    name='rule',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='alerts.alertrule'),
                ),
                migrations.CreateModel(
                    name='Channel',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('kind', models.CharField(choices=[('webhook', 'Webhook (JSON, signed)'), ('email', 'Email'), ('slack', 'Slack'), ('teams', 'Microsoft Teams'), ('feishu', 'Feishu / Lark'), ('dingtalk', 'DingTalk'), ('wecom', 'WeCom')], max_length=20)),
                        ('target_encrypted', models.TextField(editable=False)),
                        ('secret_encrypted', models.TextField(blank=True, editable=False)),
                        ('max_per_minute', models.PositiveIntegerField(default=20, help_text='messages a minute at most; the rest wait, none is dropped')),
                        ('enabled', models.BooleanField(default=True)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_channels', to='auth.group')),
                    ],
                    options={
                        'db_table': 'instances_channel',
                    },
                ),
                migrations.AddField(
                    model_name='alertrule',
                    name='channels',
                    field=models.ManyToManyField(blank=True, db_table='instances_alertrule_channels', related_name='rules', to='alerts.channel'),
                ),
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event', models.CharField(max_length=15)),
                        ('message', models.JSONField()),
                        ('state', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent')], default='pending', max_length=10)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField()),
                        ('created_at', models.DateTimeField()),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('response_code', models.IntegerField(blank=True, null=True)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('alert', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='alerts.alert')),
                        ('channel', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='alerts.channel')),
                    ],
                    options={
                        'db_table': 'instances_delivery',
                    },
                ),
                migrations.AddIndex(
                    model_name='alert',
                    index=models.Index(fields=['state', '-updated_at'], name='alert_state_updated'),
                ),
                migrations.AddConstraint(
                    model_name='alert',
                    constraint=models.UniqueConstraint(condition=models.Q(('state', 'firing')), fields=('rule', 'key'), name='one_firing_alert_per_key'),
                ),
                migrations.AddConstraint(
                    model_name='channel',
                    constraint=models.UniqueConstraint(fields=('team', 'name'), name='channel_name'),
                ),
                migrations.AddConstraint(
                    model_name='alertrule',
                    constraint=models.UniqueConstraint(fields=('team', 'name'), name='rule_name'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['state', 'next_attempt_at'], name='delivery_due'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('alert', 'channel', 'event'), name='one_message_per_event'),
                ),
            ],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
