"""Minor units by currency (ISO 4217): the one table every amount to or from a provider goes through.

Providers count in the currency's minor unit: cents for USD (exponent 2), yen for JPY (0), fils for
KWD (3). A currency missing here has the ISO default of two decimals. The shop stores amounts with
two decimals (the order service's precision), so a three-decimal amount is a multiple of 10 fils,
which is also what Stripe and Razorpay ask of three-decimal currencies (docs/payments.md).
"""

from decimal import Decimal

# ISO 4217 currencies whose exponent is not 2 (the list of codes in active use).
EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
DEFAULT_EXPONENT = 2


class AmountNotRepresentable(ValueError):
    """The amount has more decimals than the currency's minor unit allows (0.5 JPY, say)."""


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in the currency's minor unit: 53.20 USD → 5320, 1500 JPY → 1500, 1.25 KWD → 1250.

    :raises AmountNotRepresentable: 10.50 JPY, say (there is no half yen)."""
    minor = amount.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise AmountNotRepresentable(
            f"{amount} {currency.upper()} is not a whole number of minor units"
        )
    return int(minor)


def from_minor_units(amount: int | None, currency: str | None) -> Decimal | None:
    """The provider's integer back into a Decimal with the currency's decimals (None stays None)."""
    if amount is None or currency is None:
        return None
    places = exponent(currency)
    return Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places))
