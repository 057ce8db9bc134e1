"""The configuration version read that comes with every request answers as the ORM does."""

import pytest

from leadrefinery.common import config
from leadrefinery.common.models import ConfigVersion


@pytest.mark.django_db
def test_current_token_answers_as_the_orm():
    first = config.current_token()  # creates the row when a flushed database lacks it
    assert first == ConfigVersion.objects.get(pk=1).token
    config.bump()
    assert config.current_token() == ConfigVersion.objects.get(pk=1).token != first
