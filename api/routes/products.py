"""The product catalogue, with what is left to sell."""

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import SessionsDep
from api.errors import ERROR_RESPONSES
from db.models import Product
from inngest_temporal import CamelModel

router = APIRouter(prefix="/api/products", tags=["products"], responses=ERROR_RESPONSES)


class ProductView(CamelModel):
    id: str
    name: str
    price_cents: int
    stock: int
    reserved: int
    available: int


@router.get("", response_model=list[ProductView])
async def list_products(sessions: SessionsDep) -> list[ProductView]:
    async with sessions() as session:
        products = (await session.scalars(select(Product).order_by(Product.id))).all()
    return [
        ProductView(
            id=p.id,
            name=p.name,
            price_cents=p.price_cents,
            stock=p.stock,
            reserved=p.reserved,
            available=p.stock - p.reserved,
        )
        for p in products
    ]
