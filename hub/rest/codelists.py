"""The harmonised code lists (statements, treatments, units, ...), one row per code and language."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from hub.deps import CodeListServiceDep, get_current_nppo
from hub.errors import NotFound
from hub.rest import schemas
from hub.rest.body_limit import BodyLimitedRoute
from hub.rest.problems import problems

# Every route answers only NPPOs with a valid client certificate, like the SOAP operations.
router = APIRouter(
    route_class=BodyLimitedRoute, tags=["code lists"], dependencies=[Depends(get_current_nppo)]
)


@router.get(
    "/codelists",
    summary="The code lists the hub publishes",
    response_model=list[schemas.CodeListSummary],
    responses=problems(401, 500),
)
async def code_lists(codelists: CodeListServiceDep) -> list[schemas.CodeListSummary]:
    return [
        schemas.CodeListSummary(name=name, languages=sorted(codelists.code_list(name).languages()))
        for name in codelists.names()
    ]


@router.get(
    "/codelists/{name}",
    summary="The rows of one code list",
    description=(
        "Every (code, language) row, inactive codes included (old certificates still use "
        "them); `lang` keeps one language, and a language the list lacks gives no rows."
    ),
    response_model=list[schemas.CodeRow],
    responses=problems(401, 404, 422, 500),
)
async def code_list_rows(
    name: Annotated[str, Path(max_length=64, examples=["treatment_types"])],
    codelists: CodeListServiceDep,
    lang: Annotated[
        str | None, Query(pattern=r"^[a-z]{2}$", description="ISO 639-1 code, e.g. en, fr, es.")
    ] = None,
) -> list[schemas.CodeRow]:
    if name not in codelists.names():
        raise NotFound(
            f"no code list {name}; the lists are: {', '.join(codelists.names())}", field="name"
        )
    return [schemas.CodeRow.model_validate(row) for row in codelists.rows(name, lang=lang)]
