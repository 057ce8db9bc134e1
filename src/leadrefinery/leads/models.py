"""People, accounts, leads and everything that happens to them.

Nothing here is ever deleted by the application: leads are disposed or merged, touches and
timeline events are append-only, and every intake is kept raw in :class:`IntakeRecord`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadrefinery.common.models import index_where_set

from . import custom_fields, domain

STAGE_CHOICES = [(s.value, s.label) for s in domain.Stage]


class Account(models.Model):
    """A company. One Account has many People."""

    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, blank=True, db_index=True)
    domain = models.CharField(max_length=200, blank=True, db_index=True)
    industry = models.CharField(max_length=120, blank=True)
    employee_band = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=2, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_accounts",
    )
    created_at = models.DateTimeField()
    # The company's own fields about the account (CustomField applies to account).
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A human we know. Contact fields are stored normalized (see normalize.py)."""

    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164")
    email_unparsed = models.CharField(
        max_length=254,
        blank=True,
        help_text="an email address as given that is not valid: shown to reps, not used for "
        "matching or mail (the person came in with a valid phone)",
    )
    phone_unparsed = models.CharField(
        max_length=64,
        blank=True,
        help_text="a phone number as given that is not a valid number: shown to reps, not "
        "used for matching (the person came in with a valid email)",
    )
    first_name = models.CharField(max_length=120, blank=True)
    last_name = models.CharField(max_length=120, blank=True)
    title = models.CharField(max_length=200, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    website = models.CharField(max_length=300, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=120, blank=True)
    postcode = models.CharField(max_length=32, blank=True)
    street = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=16, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    # The company's own fields about the person (CustomField applies to person).
    custom = models.JSONField(default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Match keys (dedupe/keys.py computes them; intake, import and the backfill store them).
    email_key = models.CharField(max_length=254, blank=True, help_text="provider rules applied")
    domain_key = models.CharField(max_length=200, blank=True, help_text="web domain")
    company_key = models.CharField(max_length=200, blank=True, help_text="cleanco basename")
    first_name_key = models.CharField(max_length=120, blank=True, help_text="nicknames folded")
    last_name_key = models.CharField(max_length=120, blank=True)
    postcode_key = models.CharField(max_length=32, blank=True)
    street_number_key = models.CharField(max_length=16, blank=True)
    street_key = models.CharField(max_length=120, blank=True, help_text="number and first word")
    # A merged person is kept, pointing at its survivor (merged_into), with its provenance.
    status = models.CharField(
        max_length=8,
        choices=[("active", "Active"), ("merged", "Merged")],
        default="active",
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    merge_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "people"
        ordering = ["last_name", "first_name"]
        # Partial indexes: many people have no phone (or no email), and an index whose
        # statistics are dominated by '' made SQLite's planner scan the whole table for
        # every match (found by bench/routing.py at 1M people). Queries say "!= ''" to use them.
        # The dedupe blocks (dedupe/domain.py: BLOCKS) are one index read each.
        indexes = [
            models.Index(fields=["email"], name="person_email_key", condition=~Q(email="")),
            models.Index(fields=["phone"], name="person_phone_key", condition=~Q(phone="")),
            models.Index(
                fields=["email_key"], name="person_block_email", condition=~Q(email_key="")
            ),
            models.Index(
                fields=["last_name_key", "first_name_key"],
                name="person_block_name",
                condition=~Q(last_name_key=""),
            ),
            models.Index(
                fields=["company_key", "last_name_key"],
                name="person_block_company",
                condition=~Q(company_key=""),
            ),
            models.Index(
                fields=["postcode_key", "street_number_key"],
                name="person_block_address",
                condition=~Q(postcode_key=""),
            ),
            models.Index(
                fields=["first_name_key", "postcode_key"],
                name="person_block_name_postcode",
                condition=~Q(first_name_key=""),
            ),
            models.Index(
                fields=["domain_key"], name="person_domain_key", condition=~Q(domain_key="")
            ),
            models.Index(
                fields=["last_name_key", "postcode_key"],
                name="person_block_surname_postcode",
                condition=~Q(last_name_key=""),
            ),
            models.Index(
                fields=["street_key"], name="person_block_street", condition=~Q(street_key="")
            ),
            models.Index(
                fields=["last_name_key", "street_number_key"],
                name="person_block_last_number",
                condition=~Q(last_name_key=""),
            ),
            index_where_set("merged_into", "person_merged_into"),
            index_where_set("merged_by", "person_merged_by"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or f"Person {self.pk}"


class Consent(models.Model):
    class Basis(models.TextChoices):
        OPT_IN = "opt_in", "Opt-in"
        LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"
        CONTRACT = "contract", "Contract"
        WITHDRAWN = "withdrawn", "Withdrawn (unsubscribed)"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    channel = models.CharField(max_length=16, default="email")
    basis = models.CharField(max_length=32, choices=Basis.choices)
    source = models.CharField(
        max_length=200, blank=True, help_text="where it was given: form, import..."
    )
    wording = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_basis_display()} ({self.channel}) for person {self.person_id}"


class CustomField(models.Model):
    """A field of the company's own on every lead, person or account, defined by an admin
    (leads/custom_fields.py): set through the API, the import and the lead page, seen by
    routing, scoring, the readiness model and the export under ``name``."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        CHOICE = "choice", "Choice"
        DATE = "date", "Date"
        YESNO = "yesno", "Yes / no"

    name = models.SlugField(
        max_length=50, unique=True, help_text="lower case, digits and _, e.g. fleet_size"
    )
    label = models.CharField(max_length=100, help_text="what people see, e.g. Fleet size")

    class AppliesTo(models.TextChoices):
        LEAD = "lead", "Lead"
        PERSON = "person", "Person"
        ACCOUNT = "account", "Account"

    applies_to = models.CharField(
        max_length=10,
        choices=AppliesTo.choices,
        default=AppliesTo.LEAD,
        help_text="one value per lead, per person (shared by their leads) or per account "
        "(shared by the company's people and leads)",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(default=list, blank=True, help_text="the options of a choice")
    help_text = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not custom_fields.NAME.match(self.name or ""):
            raise ValidationError(
                {"name": "lower-case letters, digits and _, starting with a letter"}
            )
        if self.name in custom_fields.RESERVED:
            raise ValidationError({"name": f"'{self.name}' is a built-in field's name"})
        if self.kind == self.Kind.CHOICE and not self.choices:
            raise ValidationError({"choices": "a choice needs its options"})

    def definition(self) -> custom_fields.Definition:
        return custom_fields.Definition(
            self.name,
            self.label,
            self.kind,
            tuple(str(c) for c in self.choices or ()),
            self.help_text,
            self.applies_to,
        )


class Source(models.Model):
    class Channel(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        API = "api", "API"
        TRADE_SHOW = "trade_show", "Trade show"
        WEBINAR = "webinar", "Webinar"
        PAID_AD = "paid_ad", "Paid ad"
        REFERRAL = "referral", "Referral"
        ORGANIC = "organic", "Organic"
        LIST_PURCHASE = "list_purchase", "List purchase"
        SALES_PROSPECTING = "sales_prospecting", "Sales prospecting"
        OTHER = "other", "Other"

    name = models.CharField(max_length=120, unique=True)
    channel = models.CharField(max_length=32, choices=Channel.choices, default=Channel.OTHER)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="campaign_unique_per_source")
        ]

    def __str__(self) -> str:
        return self.name


class Queue(models.Model):
    """A shared owner: the unassigned queue, the qualifying center, marketing nurture."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="queues"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="queues")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StageDefinition(models.Model):
    """The agreed, written definition of each stage (data, editable by an admin)."""

    code = models.CharField(max_length=32, primary_key=True, choices=STAGE_CHOICES)
    name = models.CharField(max_length=64)
    definition = models.TextField()
    order = models.PositiveSmallIntegerField()
    default_next_action = models.CharField(max_length=200, blank=True)
    default_due_minutes = models.PositiveIntegerField(default=60)
    max_age_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="a lead in this stage longer than this is flagged for the weekly review "
        "(empty: no limit)",
    )

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.name


class DispositionReason(models.Model):
    """A reason code for a terminal outcome or a recycle (data, editable by an admin)."""

    code = models.CharField(max_length=64, primary_key=True)
    label = models.CharField(max_length=120)
    stage = models.CharField(
        max_length=32, choices=STAGE_CHOICES, help_text="the stage this reason leads to"
    )
    needs_persistence = models.BooleanField(
        default=False, help_text="refused until the persistence rule is met (no response)"
    )
    active = models.BooleanField(default=True)
    system_only = models.BooleanField(
        default=False, help_text="set by the system, never offered to users"
    )
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["stage", "order", "label"]

    def __str__(self) -> str:
        return self.label

    @classmethod
    def label_for(cls, code: str) -> str:
        """What people read for a reason code (the code itself when unknown)."""
        return cls.objects.filter(code=code).values_list("label", flat=True).first() or code


class ImportBatch(models.Model):
    id = models.CharField(primary_key=True, max_length=32)
    filename = models.CharField(max_length=300)
    source = models.ForeignKey(Source, on_delete=models.PROTECT)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "import batches"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.filename})"

    @staticmethod
    def new_id() -> str:
        return "b_" + uuid.uuid4().hex[:12]


class IntakeRecord(models.Model):
    """Every inquiry exactly as it arrived, written before any processing."""

    class Channel(models.TextChoices):
        FORM = "form", "Web form"
        API = "api", "API"
        IMPORT = "import", "CSV import"
        DEMO = "demo", "Demo data"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received, not yet processed"
        PROCESSED = "processed", "Processed"
        REJECTED = "rejected", "Rejected (invalid)"
        FAILED = "failed", "Failed, will be retried"

    channel = models.CharField(max_length=16, choices=Channel.choices)
    received_at = models.DateTimeField(db_index=True)
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64)
    source = models.ForeignKey(Source, on_delete=models.PROTECT)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    form = models.ForeignKey(
        "leads.WebForm", null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    idempotency_scope = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    row_number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    response = models.JSONField(null=True, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="intake_idempotency_unique",
            )
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="intake_status_due"),
            # Rows with an address only: an imported or API row has none.
            models.Index(
                fields=["ip", "received_at"],
                name="intake_ip_recent",
                condition=Q(ip__isnull=False),
            ),
            index_where_set("campaign", "intake_campaign"),
            index_where_set("form", "intake_form"),
            index_where_set("submitted_by", "intake_submitted_by"),
        ]

    def __str__(self) -> str:
        return f"Intake {self.pk} via {self.channel} ({self.status})"


class WebForm(models.Model):
    """A public inquiry form, defined as data."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    source = models.ForeignKey(Source, on_delete=models.PROTECT)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    fields = models.JSONField(
        default=list,
        help_text='list of {"name", "label", "type", "required"}; names are intake field names',
    )
    product_interest = models.CharField(max_length=120, blank=True)
    intro = models.TextField(blank=True)
    submit_label = models.CharField(max_length=60, default="Send")
    thank_you_url = models.CharField(max_length=500, blank=True)
    thank_you_message = models.CharField(
        max_length=300, default="Thank you. We will be in touch shortly."
    )
    consent_wording = models.CharField(max_length=300, blank=True)
    min_fill_seconds = models.PositiveSmallIntegerField(default=3)
    rate_limit_per_hour = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Lead(models.Model):
    # Found by lead_person_stage (person, stage), as the owners by their own (owner, stage).
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    stage = models.CharField(max_length=32, choices=STAGE_CHOICES, default=domain.Stage.INQUIRY)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_leads",
        db_index=False,
    )
    owner_queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    next_action = models.CharField(max_length=200, blank=True)
    next_action_due_at = models.DateTimeField(null=True, blank=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="leads")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    product_interest = models.CharField(max_length=120, blank=True, help_text="product line")
    message = models.TextField(blank=True)
    need = models.CharField(max_length=300, blank=True)
    budget = models.CharField(max_length=120, blank=True)
    authority = models.CharField(max_length=120, blank=True)
    timeline = models.CharField(max_length=120, blank=True)
    # The company's own fields (CustomField, leads/custom_fields.py): name -> value.
    custom = models.JSONField(default=dict, blank=True)
    # Money (leads/money.py; set through services.lead_set_amount and the stage changes to
    # opportunity and won). Revenue per source is reported from these.
    opportunity_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="expected deal value once the lead is an opportunity",
    )
    won_amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="the amount won"
    )
    currency = models.CharField(
        max_length=3,
        blank=True,
        help_text="ISO 4217 code; empty means the reporting currency (REFINERY_REPORTING_CURRENCY)",
    )
    disposition = models.ForeignKey(
        DispositionReason, null=True, blank=True, on_delete=models.PROTECT
    )
    disposition_note = models.TextField(blank=True)
    disposed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    temperature = models.CharField(
        max_length=8,
        blank=True,
        choices=[("hot", "Hot"), ("warm", "Warm"), ("cool", "Cool"), ("cold", "Cold")],
        help_text="from fit and engagement (scoring); blank until scored",
    )
    # Speed-to-lead SLA (sla/): the clock runs from hand-off to a rep until the first sales
    # touch; sla_due_at is when the next escalation step falls due (the sweep's index).
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sla_started_at = models.DateTimeField(null=True, blank=True)
    sla_first_touch_due_at = models.DateTimeField(null=True, blank=True)
    sla_accept_due_at = models.DateTimeField(null=True, blank=True)
    sla_step = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="last escalation step done"
    )
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    speed_to_lead_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="first sales touch minus inquiry time"
    )
    sales_touch_count = models.PositiveIntegerField(default=0)
    first_sales_touch_at = models.DateTimeField(null=True, blank=True)
    last_touch_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(help_text="when the inquiry arrived")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    stage_changed_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # The other half of "exactly one owner" (at least one) is checked by
            # `refinery check`, so that a violation can be reported rather than hidden.
            models.CheckConstraint(
                condition=Q(owner_user__isnull=True) | Q(owner_queue__isnull=True),
                name="lead_owner_user_xor_queue",
            ),
        ]
        indexes = [
            models.Index(fields=["stage", "received_at"], name="lead_stage_received"),
            models.Index(fields=["owner_user", "stage"], name="lead_owner_user_stage"),
            models.Index(fields=["owner_queue", "stage"], name="lead_owner_queue_stage"),
            models.Index(fields=["next_action_due_at"], name="lead_next_action_due"),
            models.Index(fields=["sla_due_at"], name="lead_sla_due"),
            models.Index(fields=["person", "stage"], name="lead_person_stage"),
            index_where_set("merged_into", "lead_merged_into"),
        ]

    def __str__(self) -> str:
        return f"Lead {self.pk} ({self.person})"

    @property
    def is_open(self) -> bool:
        return domain.Stage(self.stage).is_open

    @property
    def owner_label(self) -> str:
        if self.owner_user_id:
            return str(self.owner_user)
        if self.owner_queue_id:
            return f"Queue: {self.owner_queue}"
        return "(no owner)"


class Touch(models.Model):
    class Channel(models.TextChoices):
        FORM = "form", "Form fill"
        API = "api", "API submission"
        IMPORT = "import", "List import row"
        BADGE_SCAN = "badge_scan", "Badge scan"
        EMAIL = "email", "Email"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        SOCIAL = "social", "Social"
        VISIT = "visit", "Page visit"
        EMAIL_OPEN = "email_open", "Email opened"
        EMAIL_CLICK = "email_click", "Email link clicked"
        EVENT = "event", "Tracked event (webinar, download, sign-up)"
        OTHER = "other", "Other"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Outcome(models.TextChoices):
        CONNECTED = "connected", "Connected"
        VOICEMAIL = "voicemail", "Left voicemail"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        SENT = "sent", "Sent"
        BOUNCED = "bounced", "Bounced"
        REPLIED = "replied", "Replied"
        MEETING_BOOKED = "meeting_booked", "Meeting booked"
        OPENED = "opened", "Opened"
        CLICKED = "clicked", "Clicked"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="touches")
    lead = models.ForeignKey(  # found by touch_lead_time (lead, occurred_at)
        Lead,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="touches",
        db_index=False,
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    is_sales = models.BooleanField(
        default=False, help_text="an outbound touch by sales (counts for persistence)"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    occurred_at = models.DateTimeField()
    note = models.TextField(blank=True)
    intake = models.ForeignKey(
        IntakeRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(
        null=True, blank=True, help_text="set when its import batch is undone"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="touch_lead_time"),
            index_where_set("actor", "touch_actor"),  # an inbound touch has none
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_channel_display().lower()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class LeadEvent(models.Model):
    """The timeline: who did what to a lead, when and why. Append-only."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        INQUIRY = "inquiry", "Inquiry received"
        STAGE_CHANGED = "stage_changed", "Stage changed"
        ASSIGNED = "assigned", "Assigned"
        NEXT_ACTION = "next_action", "Next action set"
        TOUCH = "touch", "Touch logged"
        NOTE = "note", "Note"
        DISPOSED = "disposed", "Disposed"
        MERGED = "merged", "Merged"
        IMPORT_UNDONE = "import_undone", "Import undone"
        ACCEPTED = "accepted", "Accepted by the owner"
        REJECTED = "rejected", "Rejected by the owner"
        RECYCLED = "recycled", "Recycled to marketing"
        CADENCE = "cadence", "Cadence"
        OUTCOME_CHECK = "outcome_check", "Outcome check"
        SCORE = "score", "Score or temperature changed"
        NURTURE = "nurture", "Nurture program"
        DUPLICATE = "duplicate", "Possible duplicate"
        SLA = "sla", "Speed-to-lead SLA"
        REVIEWED = "reviewed", "Reviewed"
        QUALIFIED = "qualified", "Qualification updated"
        AMOUNT = "amount", "Amount changed"

    lead = models.ForeignKey(  # found by event_lead_time (lead, occurred_at)
        Lead, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    actor_label = models.CharField(max_length=120, help_text="user name or system component")
    from_stage = models.CharField(max_length=32, blank=True)
    to_stage = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=64, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="event_lead_time"),
            index_where_set("actor", "event_actor"),  # a system event has none
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on lead {self.lead_id} by {self.actor_label}"
