from __future__ import annotations

import json

import pytest
from app import Invoice, invoice_agent, read_invoice
from pydantic_ai.exceptions import ModelHTTPError, UnexpectedModelBehavior

pytestmark = pytest.mark.anyio


async def test_the_invoice_comes_back_typed(lmstudio_fake):
    lmstudio_fake.chat.reply(json={"vendor": "ACME", "total": 12.5, "currency": "EUR"})
    invoice = await read_invoice(invoice_agent(lmstudio_fake.base_url), "ACME, 12.50 EUR")
    assert invoice == Invoice(vendor="ACME", total=12.5, currency="EUR")
    sent = lmstudio_fake.requests[-1].json
    assert sent["response_format"]["json_schema"]["name"] == "Invoice"
    assert "ACME, 12.50 EUR" in sent["messages"][-1]["content"]


async def test_without_a_script_the_fake_answers_with_json_that_fits(lmstudio_fake):
    invoice = await read_invoice(invoice_agent(lmstudio_fake.base_url), "anything")
    assert isinstance(invoice, Invoice)  # generated from the schema the agent sent
    assert len(lmstudio_fake.requests) == 1


async def test_an_answer_that_breaks_the_schema_is_asked_again_then_refused(lmstudio_fake):
    # Text, not json=: the fake would check a json= answer against the request's schema. This
    # is what a model that ignores its grammar sends.
    lmstudio_fake.chat.reply(json.dumps({"vendor": "ACME"}))
    with pytest.raises(UnexpectedModelBehavior):
        await read_invoice(invoice_agent(lmstudio_fake.base_url), "ACME")
    assert len(lmstudio_fake.requests) == 2  # pydantic-ai asked once more, then gave up


async def test_a_model_lm_studio_lacks_is_its_400(lmstudio_fake):
    agent = invoice_agent(lmstudio_fake.base_url, model="gpt-4o")
    with pytest.raises(ModelHTTPError) as error:
        await read_invoice(agent, "ACME")
    assert error.value.status_code == 400
    assert "Invalid model identifier" in str(error.value.body)
