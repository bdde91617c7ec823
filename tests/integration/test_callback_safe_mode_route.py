"""An account in safe mode (an EncodingAESKey configured) takes only encrypted pushes, through
the real /callback route: a plain push, correctly signed with the account's token, is refused
and records nothing. (The fix's first test called ``open_push`` directly, beside the route.)"""

from __future__ import annotations

from tests.integration.test_web_security import _events, _publish_push
from tests.integration.web_rig import (
    WebRig,
    safe_rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


async def test_a_plain_push_to_a_safe_mode_account_is_refused_at_the_route(
    safe_rig: WebRig,
) -> None:
    query, body = _publish_push("950")  # signed with the right token, but not encrypted
    assert "<Encrypt>" not in body and "950" in body
    safe_rig.services.worker.wake.clear()
    response = await safe_rig.client.post("/callback/main", params=query, data=body.encode())
    assert response.status in (400, 403), await response.text()
    assert "error" in await response.json()
    assert await _events(safe_rig) == []
    assert not safe_rig.services.worker.wake.is_set()
