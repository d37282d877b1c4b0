from django.contrib.admin.apps import AdminConfig


class AcompteAdminConfig(AdminConfig):
    """The Django admin, with a site that lets owners and managers see only their salons."""

    default_site = "tenants.admin_site.SalonAdminSite"
