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


def phone_display(number: PhoneNumber | str | None, *, country: str) -> str:
    """A number as people of `country` write it: nationally for the country's own
    ("01 42 00 00 00"), internationally for another's ("+1 416-555-0100")."""
    if not number:
        return ""
    parsed = number if isinstance(number, PhoneNumber) else PhoneNumber.from_string(str(number))
    if not parsed.is_valid():
        return str(number)
    national = phonenumbers.region_code_for_number(parsed) == country
    return phonenumbers.format_number(
        parsed,
        phonenumbers.PhoneNumberFormat.NATIONAL
        if national
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )
