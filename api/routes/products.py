"""The product catalogue, with what is left to sell."""

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import SessionsDep
from db.models import Product

router = APIRouter(prefix="/api/products", tags=["products"])


@router.get("")
async def list_products(sessions: SessionsDep) -> list[dict[str, Any]]:
    async with sessions() as session:
        products = (await session.scalars(select(Product).order_by(Product.id))).all()
    return [
        {
            "id": p.id,
            "name": p.name,
            "priceCents": p.price_cents,
            "stock": p.stock,
            "reserved": p.reserved,
            "available": p.stock - p.reserved,
        }
        for p in products
    ]
