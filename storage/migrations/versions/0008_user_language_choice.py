"""user language choice: a user's interface language is stored only once they choose it

Until now `user_account.language` was "es" for everybody who never chose (the default of
`cicie user add` and of the demo users), so the signed-in pages switched to Spanish right
after signing in, whatever the browser asked for and whatever language the sign-in page was
in. From now on "" means "not chosen": the pages follow this browser's choice (the language
picker before signing in) and its `Accept-Language` (q-values respected) until the user
chooses a language on /account or with the picker; that choice is stored and used on every
page, in every browser, until they change it.

Existing rows: "es" is read as "not chosen", because it cannot be told apart from the old
default and nearly every "es" row is that default. A Spanish-speaking user whose browser asks
for Spanish sees no change; the few who picked Spanish while their browser asks for another
language pick it once more. Any other value came from an explicit choice and is kept when the
interface speaks it ("en", "fr"); a language the interface does not speak ("pt", "ar", "ru",
possible through `cicie user add` before) is read as "not chosen" too. The downgrade writes
"es" back where nothing is chosen (the earlier default).

The column keeps its type and NOT NULL ("" rather than NULL): making it nullable would rebuild
`user_account` on SQLite, which the sessions and API tokens that reference it forbid while
foreign keys are enforced inside the migration's transaction.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHOSEN_KEPT = ("en", "fr")  # the interface languages other than the old default

user_account = sa.table("user_account", sa.column("language", sa.String(5)))


def upgrade() -> None:
    op.execute(
        user_account.update().where(user_account.c.language.not_in(CHOSEN_KEPT)).values(language="")
    )


def downgrade() -> None:
    op.execute(user_account.update().where(user_account.c.language == "").values(language="es"))
