from companies.roles import roles_for


def roles(request):
    """Expose the signed-in user's roles to templates (menus only; views enforce permissions)."""
    return {"roles": roles_for(getattr(request, "user", None))}
