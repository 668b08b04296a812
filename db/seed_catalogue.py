"""`python -m db.seed_catalogue`: a small demo catalogue for `make dev`, added only while the
products table is empty (so it never touches a real catalogue)."""

import asyncio
import logging

from sqlalchemy import func, select

from db.models import Product
from inngest_temporal import Sessions, create_engine, session_factory
from settings import load_settings

log = logging.getLogger("pipelines.catalogue")

# id, name, price in cents, units in stock (one signed print: two orders race for it)
DEMO_CATALOGUE = (
    ("sku_tee_black", "Black T-shirt", 2_500, 100),
    ("sku_mug", "Coffee mug", 1_500, 50),
    ("sku_hoodie", "Hoodie", 6_500, 20),
    ("sku_sticker_pack", "Sticker pack", 500, 500),
    ("sku_headphones", "Noise-cancelling headphones", 19_900, 5),
    ("sku_signed_print", "Signed print (last one)", 12_000, 1),
)


async def seed_catalogue(sessions: Sessions) -> int:
    """Adds the demo products if there are none; returns how many were added."""
    async with sessions() as session:
        if await session.scalar(select(func.count(Product.id))):
            return 0
        session.add_all(
            Product(id=pid, name=name, price_cents=price, stock=stock, reserved=0)
            for pid, name, price, stock in DEMO_CATALOGUE
        )
        await session.commit()
    return len(DEMO_CATALOGUE)


async def main() -> None:
    engine = create_engine(load_settings().database_url)
    try:
        added = await seed_catalogue(session_factory(engine))
    finally:
        await engine.dispose()
    log.info(
        "demo catalogue: %s", f"{added} products added" if added else "products exist, unchanged"
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(main())
