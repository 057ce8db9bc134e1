"""``email_engaged``: sent for every recorded email open or click (after it is stored).

Keyword arguments: ``person_id`` (int), ``message_ref`` (str), ``kind`` ("open" | "click"),
``url`` (str, "" for opens), ``at`` (aware datetime). The nurture app counts them per message.
"""

from django.dispatch import Signal

email_engaged = Signal()
