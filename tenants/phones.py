import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber


def phone_parse(value: str, *, country: str) -> PhoneNumber:
    """Read a phone number typed in national or international form in `country`.

    Raises ValidationError when it is not a valid number.
    """
    try:
        number = PhoneNumber.from_string(value, region=country)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone") from exc
    if not number.is_valid():
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone")
    return number
