"""Company.external_ref becomes an import key within a scope (security review #18, finding 4).

Before, any company admin could set its own external_ref through the API, and an import matched a
company_ref against every company: a company that gave itself a facilitator's reference received the
imported data. Now only imports set the key, and `import_scope` says whose key it is. Existing refs:

- companies entered by the system (no `entered_by`: `import_streams` without --as) or by staff,
  with no company admin: "platform", the scope of staff and system imports; so are the demo
  companies (`demo-c-<n>`, no `entered_by`), whose first two have demo admins;
- companies a facilitator entered on behalf of their owners, with no company admin: "region:<code>" of
  the first site in a region that facilitator facilitates (else of the first site);
- everything else keeps its text but gets no scope and is never matched again: a company admin
  could have typed it. Staff may give such a company its scope back in the admin.
"""

from django.db import migrations, models


def scope_existing_refs(apps, schema_editor):
    Company = apps.get_model("companies", "Company")
    Membership = apps.get_model("companies", "Membership")
    RegionRole = apps.get_model("companies", "RegionRole")
    Site = apps.get_model("companies", "Site")

    with_admin = set(Membership.objects.filter(role="admin").values_list("company_id", flat=True))
    facilitated: dict[int, set[int]] = {}
    for user_id, region_id in RegionRole.objects.filter(role="facilitator").values_list("user_id", "region_id"):
        facilitated.setdefault(user_id, set()).add(region_id)
    platform, by_region = [], {}
    rows = Company.objects.filter(external_ref__isnull=False).values_list(
        "pk", "external_ref", "entered_by_id", "entered_by__is_staff", "entered_by_facilitator")
    for pk, ref, entered_by, by_staff, by_facilitator in rows.iterator():
        demo = entered_by is None and ref.startswith("demo-c-")
        if pk in with_admin and not demo:
            continue
        if entered_by is None or by_staff:
            platform.append(pk)
        elif by_facilitator and entered_by in facilitated:
            sites = list(Site.objects.filter(company_id=pk).order_by("pk").values_list("region_id", "region__code"))
            mine = [code for region, code in sites if region in facilitated[entered_by]]
            code = (mine or [code for _region, code in sites] or [None])[0]
            if code is not None:
                by_region.setdefault(code, []).append(pk)
    Company.objects.filter(pk__in=platform).update(import_scope="platform")
    for code, pks in by_region.items():
        # A reference cannot be held twice in one scope: the oldest company keeps it.
        taken = set(Company.objects.filter(import_scope=f"region:{code}").values_list("external_ref", flat=True))
        for pk, ref in Company.objects.filter(pk__in=pks).order_by("pk").values_list("pk", "external_ref"):
            if ref not in taken:
                taken.add(ref)
                Company.objects.filter(pk=pk).update(import_scope=f"region:{code}")


class Migration(migrations.Migration):

    dependencies = [
        ("companies", "0005_exclusion_by_name"),
    ]

    operations = [
        migrations.AlterField(
            model_name="company",
            name="external_ref",
            field=models.CharField(blank=True, db_index=True, help_text="company_ref of an import sheet; a key only within its import scope", max_length=64, null=True, verbose_name="external reference"),
        ),
        migrations.AddField(
            model_name="company",
            name="import_scope",
            field=models.CharField(blank=True, default="", help_text="Whose company_ref external_ref is: “platform” (staff and system imports), “region:<NUTS code>” (imports by that region's facilitators), or empty (not an import key, never matched)", max_length=32, verbose_name="import scope"),
        ),
        migrations.RunPython(scope_existing_refs, migrations.RunPython.noop),
    ]
