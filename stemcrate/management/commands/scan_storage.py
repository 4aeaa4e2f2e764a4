"""`python manage.py scan_storage [--delete]`: report stored files no row refers to, and rows whose file is gone."""

from django.core.management.base import BaseCommand

from stemcrate.storage_scan import scan


class Command(BaseCommand):
    help = "Find orphan files in storage (no database row) and rows whose file is missing; --delete removes orphans."

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Delete the orphan files found.")

    def handle(self, *args, delete=False, **options):
        report = scan(delete=delete)
        out = self.stdout
        out.write(
            f"Scanned {report.stored} stored file(s); the database refers to {report.referenced}. "
            f"Orphans: {len(report.orphans)}. Missing: {len(report.missing)}."
        )
        for folder in report.orphan_folders:
            out.write(f"orphan folder (its user or track was deleted): {folder}")
        for path in report.orphans:
            out.write(f"orphan: {path}")
        for path, label, pk in report.missing:
            out.write(f"missing: {path} ({label} {pk})")
        if delete:
            out.write(f"Deleted {report.deleted} orphan file(s).")
        elif report.orphans:
            out.write("Run with --delete to remove the orphans.")
        if report.missing:
            out.write("Missing files cannot be recovered here: restore them from a backup, or delete those rows.")
