import django.contrib.postgres.search
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def articles_forward(apps, schema_editor):
    """Published articles stay published (and public, as they were on the portal); an article's service
    becomes its first linked service; each article's current text is its version 1."""
    Article = apps.get_model("itsm", "KnowledgeArticle")
    Version = apps.get_model("itsm", "ArticleVersion")
    for article in Article.objects.all():
        article.state = "published" if article.published else "draft"
        article.published_at = article.updated_at if article.published else None
        article.save(update_fields=["state", "published_at"])
        if article.service_id:
            article.services.add(article.service_id)
        Version.objects.create(article=article, number=1, title=article.title, body=article.body,
                               audience=article.audience, note="Text before versions were kept",
                               created_at=article.updated_at)


def articles_backward(apps, schema_editor):
    Article = apps.get_model("itsm", "KnowledgeArticle")
    for article in Article.objects.all():
        article.published = article.state == "published"
        article.service_id = next(iter(article.services.values_list("pk", flat=True)), None)
        article.save(update_fields=["published", "service"])


# PostgreSQL ranks full-text search over the weighted title and body through a GIN index; SQLite has no
# such index type (it ranks in Python), so the index exists on PostgreSQL only.
SEARCH_INDEX = "itsm_article_search"


def search_index_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX {SEARCH_INDEX} ON itsm_knowledgearticle USING gin (search_vector)")
        schema_editor.execute(
            "UPDATE itsm_knowledgearticle SET search_vector = "
            "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'B')")


def search_index_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('itsm', '0005_major_incidents'),
        ('sla', '0008_notification_kind_major'),
        ('tracker', '0015_service_lifecycle_line_manager'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ArticleUse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('how', models.CharField(choices=[('linked', 'Linked as the answer'), ('replied', 'Sent as a reply'), ('drafted', 'Drafted from the ticket')], max_length=12)),
                ('created_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='ArticleVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('title', models.CharField(max_length=200)),
                ('body', models.TextField()),
                ('audience', models.CharField(choices=[('public', 'Public: the portal, without signing in'), ('internal', 'Internal: staff only')], max_length=12)),
                ('note', models.CharField(blank=True, help_text='What changed in this version.', max_length=200)),
                ('created_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['article', 'number'],
            },
        ),
        migrations.CreateModel(
            name='CatalogField',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.SlugField(help_text="The answer's key (API and stored answers).", max_length=40)),
                ('label', models.CharField(max_length=120)),
                ('type', models.CharField(choices=[('text', 'Text'), ('long_text', 'Long text'), ('choice', 'Choice'), ('user', 'Person'), ('date', 'Date'), ('number', 'Number'), ('yes_no', 'Yes / no')], default='text', max_length=12)),
                ('required', models.BooleanField(default=False)),
                ('help_text', models.CharField(blank=True, max_length=200)),
                ('choices', models.JSONField(blank=True, default=list, help_text='The options of a choice.')),
                ('min_value', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('max_value', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True)),
                ('max_length', models.PositiveIntegerField(blank=True, null=True)),
                ('pattern', models.CharField(blank=True, help_text='A regular expression a text must match.', max_length=200)),
                ('pattern_message', models.CharField(blank=True, help_text='Said when the pattern fails.', max_length=200)),
                ('order', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'ordering': ['item', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='CatalogItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120)),
                ('summary', models.CharField(blank=True, help_text="One line on the catalogue's card.", max_length=200)),
                ('description', models.TextField(blank=True, help_text='Markdown; rendered sanitised.')),
                ('icon', models.CharField(default='package', help_text='An icon of the design system.', max_length=32)),
                ('audience', models.CharField(choices=[('everyone', 'Everyone (portal and desk)'), ('staff', 'Staff only')], default='everyone', max_length=12)),
                ('approval', models.CharField(choices=[('none', 'No approval'), ('manager', "The requester's manager"), ('named', 'A named approver')], default='none', max_length=12)),
                ('handler', models.CharField(blank=True, help_text='The fulfilment handler the workers run; empty: fulfilled by hand.', max_length=40)),
                ('handler_config', models.JSONField(blank=True, default=dict)),
                ('active', models.BooleanField(default=True)),
                ('order', models.PositiveSmallIntegerField(default=100)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['order', 'name'],
            },
        ),
        migrations.CreateModel(
            name='CatalogRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('answers', models.JSONField(blank=True, default=dict, help_text='The validated answers, by field name.')),
                ('approval', models.CharField(choices=[('not_needed', 'No approval needed'), ('pending', 'Waiting for approval'), ('approved', 'Approved'), ('rejected', 'Not approved')], default='not_needed', max_length=12)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_note', models.TextField(blank=True)),
                ('automation', models.CharField(choices=[('none', 'Fulfilled by hand'), ('waiting', 'Waits for the approval'), ('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Done'), ('failed', 'Failed')], default='none', max_length=12)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('result', models.TextField(blank=True, help_text='What the fulfilment handler did, or why it failed.')),
                ('automated_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='CatalogTaskTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200)),
                ('order', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'ordering': ['item', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Deflection',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('query', models.CharField(blank=True, help_text='What they had typed.', max_length=200)),
                ('created_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='FulfilmentTask',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveSmallIntegerField()),
                ('title', models.CharField(max_length=200)),
                ('state', models.CharField(choices=[('planned', 'Planned'), ('in_progress', 'In progress'), ('done', 'Done'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='planned', max_length=12)),
                ('note', models.TextField(blank=True)),
                ('done_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('version', models.PositiveIntegerField(default=1)),
            ],
            options={
                'ordering': ['request', 'number'],
            },
        ),
        migrations.CreateModel(
            name='GateItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(choices=[('knowledge', 'Knowledge articles for the desk'), ('support_groups', 'Support groups assigned'), ('sla', 'SLA policy set'), ('monitoring', 'Monitoring in place'), ('uat', 'User acceptance test done'), ('release_notes', 'Release notes published'), ('contacts', 'Contacts and escalation paths'), ('other', 'Other')], max_length=16)),
                ('label', models.CharField(max_length=200)),
                ('state', models.CharField(choices=[('open', 'Open'), ('signed_off', 'Signed off')], default='open', max_length=12)),
                ('evidence', models.TextField(blank=True, help_text='What the approver checked.')),
                ('signed_at', models.DateTimeField(blank=True, null=True)),
                ('order', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'ordering': ['gate', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='OperationsGate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('opened_at', models.DateTimeField()),
                ('accepted_at', models.DateTimeField(blank=True, null=True)),
                ('acceptance_note', models.TextField(blank=True)),
            ],
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='audience',
            field=models.CharField(choices=[('public', 'Public: the portal, without signing in'), ('internal', 'Internal: staff only')], default='public', max_length=12),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='author',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='published_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='retired_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='reviewed_by',
            field=models.ForeignKey(blank=True, help_text='Who reviewed and published the current text.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='services',
            field=models.ManyToManyField(blank=True, related_name='articles', to='tracker.service'),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='source_ticket',
            field=models.ForeignKey(blank=True, help_text='The resolved ticket it was drafted from.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tracker.ticket'),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='state',
            field=models.CharField(choices=[('draft', 'Draft'), ('review', 'In review'), ('published', 'Published'), ('retired', 'Retired')], default='draft', max_length=12),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='submitted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='submitted_by',
            field=models.ForeignKey(blank=True, help_text='Who sent the current text for review.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='updated_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='version',
            field=models.PositiveIntegerField(default=1, help_text="The current version's number (optimistic lock)."),
        ),
        migrations.AddField(
            model_name='knowledgearticle',
            name='views',
            field=models.PositiveIntegerField(default=0, help_text='Times it was opened.'),
        ),
        migrations.AlterField(
            model_name='knowledgearticle',
            name='faq',
            field=models.BooleanField(default=False, help_text="Listed among the portal's frequent questions."),
        ),
        migrations.RunPython(articles_forward, articles_backward),
        migrations.RemoveIndex(
            model_name='knowledgearticle',
            name='itsm_article_published',
        ),
        migrations.RemoveField(
            model_name='knowledgearticle',
            name='published',
        ),
        migrations.RemoveField(
            model_name='knowledgearticle',
            name='service',
        ),
        migrations.AddIndex(
            model_name='knowledgearticle',
            index=models.Index(fields=['state', 'audience', '-updated_at'], name='itsm_article_state'),
        ),
        migrations.RunPython(search_index_forward, search_index_backward),
        migrations.AddField(
            model_name='articleuse',
            name='actor',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='articleuse',
            name='article',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='uses', to='itsm.knowledgearticle'),
        ),
        migrations.AddField(
            model_name='articleuse',
            name='ticket',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='article_uses', to='tracker.ticket'),
        ),
        migrations.AddField(
            model_name='articleversion',
            name='article',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='itsm.knowledgearticle'),
        ),
        migrations.AddField(
            model_name='articleversion',
            name='created_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='catalogitem',
            name='approver',
            field=models.ForeignKey(blank=True, help_text='The named approver (with a named approval).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='catalogitem',
            name='created_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='catalogitem',
            name='fulfilment_group',
            field=models.ForeignKey(blank=True, help_text="Empty: the service's usual team.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='catalog_items', to='tracker.assignmentgroup'),
        ),
        migrations.AddField(
            model_name='catalogitem',
            name='service',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='catalog_items', to='tracker.service'),
        ),
        migrations.AddField(
            model_name='catalogitem',
            name='sla_policy',
            field=models.ForeignKey(blank=True, help_text='Empty: the policy whose conditions match the request.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='catalog_items', to='sla.policy'),
        ),
        migrations.AddField(
            model_name='catalogfield',
            name='item',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='fields', to='itsm.catalogitem'),
        ),
        migrations.AddField(
            model_name='catalogrequest',
            name='approver',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='catalog_approvals', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='catalogrequest',
            name='item',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='requests', to='itsm.catalogitem'),
        ),
        migrations.AddField(
            model_name='catalogrequest',
            name='ticket',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='catalog_request', to='tracker.ticket'),
        ),
        migrations.AddField(
            model_name='catalogtasktemplate',
            name='group',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tracker.assignmentgroup'),
        ),
        migrations.AddField(
            model_name='catalogtasktemplate',
            name='item',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='task_templates', to='itsm.catalogitem'),
        ),
        migrations.AddField(
            model_name='deflection',
            name='article',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deflections', to='itsm.knowledgearticle'),
        ),
        migrations.AddField(
            model_name='deflection',
            name='service',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tracker.service'),
        ),
        migrations.AddField(
            model_name='deflection',
            name='user',
            field=models.ForeignKey(blank=True, help_text='Empty: someone who had not signed in.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='fulfilmenttask',
            name='assignee',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='fulfilment_tasks', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='fulfilmenttask',
            name='done_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='fulfilmenttask',
            name='group',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tracker.assignmentgroup'),
        ),
        migrations.AddField(
            model_name='fulfilmenttask',
            name='request',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='fulfilment_tasks', to='tracker.ticket'),
        ),
        migrations.AddField(
            model_name='gateitem',
            name='approver',
            field=models.ForeignKey(help_text='Appointed to sign this item off.', on_delete=django.db.models.deletion.PROTECT, related_name='gate_items', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='gateitem',
            name='signed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='operationsgate',
            name='accepted_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='operationsgate',
            name='opened_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='operationsgate',
            name='service',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='gate', to='tracker.service'),
        ),
        migrations.AddField(
            model_name='gateitem',
            name='gate',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='itsm.operationsgate'),
        ),
        migrations.AddConstraint(
            model_name='articleuse',
            constraint=models.UniqueConstraint(fields=('article', 'ticket', 'how'), name='itsm_articleuse_once'),
        ),
        migrations.AddConstraint(
            model_name='articleversion',
            constraint=models.UniqueConstraint(fields=('article', 'number'), name='itsm_articleversion_number'),
        ),
        migrations.AddConstraint(
            model_name='catalogitem',
            constraint=models.UniqueConstraint(fields=('service', 'name'), name='itsm_catalogitem_name'),
        ),
        migrations.AddConstraint(
            model_name='catalogfield',
            constraint=models.UniqueConstraint(fields=('item', 'name'), name='itsm_catalogfield_name'),
        ),
        migrations.AddIndex(
            model_name='catalogrequest',
            index=models.Index(fields=['approver', 'approval'], name='itsm_catalogrequest_approver'),
        ),
        migrations.AddIndex(
            model_name='deflection',
            index=models.Index(fields=['created_at'], name='itsm_deflection_created'),
        ),
        migrations.AddIndex(
            model_name='fulfilmenttask',
            index=models.Index(fields=['assignee', 'state'], name='itsm_fulfilmenttask_mine'),
        ),
        migrations.AddConstraint(
            model_name='fulfilmenttask',
            constraint=models.UniqueConstraint(fields=('request', 'number'), name='itsm_fulfilmenttask_number'),
        ),
        migrations.AddIndex(
            model_name='gateitem',
            index=models.Index(fields=['approver', 'state'], name='itsm_gateitem_mine'),
        ),
        migrations.AddConstraint(
            model_name='gateitem',
            constraint=models.UniqueConstraint(fields=('gate', 'label'), name='itsm_gateitem_label'),
        ),
    ]
