"""/tokens: the signed-in account's API tokens."""

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from shequn.accounts.selectors import tokens_of
from shequn.accounts.services import AccessError, do_create_token, do_revoke_token
from shequn.api.errors import Problem

router = Router(tags=["tokens"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    key: str = Field(description="The token itself: shown only in this response.")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


@router.get("/tokens", response=list[TokenOut], summary="Your API tokens")
def list_tokens(request: HttpRequest):  # type: ignore[no-untyped-def]
    return list(tokens_of(request.user))


@router.post("/tokens", response={201: TokenCreated, 422: Problem}, summary="Create a token")
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    try:
        token, key = do_create_token(request.user, payload.name)
    except AccessError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201, {**TokenOut.from_orm(token).dict(), "key": key})


@router.delete("/tokens/{token_id}", response={204: None, 404: Problem}, summary="Revoke a token")
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    token = get_object_or_404(tokens_of(request.user), pk=token_id)
    do_revoke_token(token, actor=request.user)
    return Status(204, None)
