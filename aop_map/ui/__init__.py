"""The only aop_map package importing streamlit: cached loaders, shared filters, URL state and
the parts pages draw; pages call these and the pure modules, never loading data or parsing
URLs themselves.

One module per concern: layout (the app's frame, navigation, titles, the address bar), data
(cached loaders), filters (sidebar widgets <-> URL <-> selection), maps (folium in Streamlit,
the tile probe), results (grids and lists), home (the energy map page's parts), provider (a
record's page), shortlist (the shortlist and its sheet), forms (the Register form's widgets),
register (the Register page's parts: receipt, form, preview, update or withdraw), coverage
(the Coverage page's gaps, matrix and spread), auth (moderator sign-in) and moderation (the
moderation page's parts). Imports among them point one way: layout and maps first, then
data, shortlist and auth, filters, the rest.
"""

from aop_map.text import md_escape, md_link  # pages escape through ui
from aop_map.ui.auth import Moderator, client_address, moderator_login
from aop_map.ui.coverage import show_gaps, show_matrix, show_spread
from aop_map.ui.data import (
    SIGNATURE_TTL_S,
    clear_data_cache,
    current_signature,
    get_dataset,
    get_district_outlines,
    get_places,
)
from aop_map.ui.filters import (
    FILTERED_PAGES,
    Filtered,
    apply_filters,
    describe_selection,
    filter_labels,
    render_filters,
    restore_filters,
    show_empty,
    show_messages,
    term_labels,
)
from aop_map.ui.forms import field_widget, field_widgets, prefill_register_form
from aop_map.ui.home import show_energy_map, show_map_metrics, show_selection_lists
from aop_map.ui.layout import (
    APP_NAME,
    app_frame,
    apply_layout,
    ensure_entrypoint,
    in_script_run,
    render_navigation,
    requested_unknown_path,
    set_page_title,
    show_not_found,
)
from aop_map.ui.maps import (
    clear_map_cache,
    folium_arguments,
    show_map,
    show_tiles_note,
    tiles_enabled,
)
from aop_map.ui.moderation import show_problem_reports, show_review_queue, show_submission
from aop_map.ui.provider import (
    provider_link,
    put_record_in_url,
    show_lifecycle_banners,
    show_provider,
    show_report_form,
)
from aop_map.ui.register import (
    register_form,
    show_preview,
    show_receipt,
    show_update_or_withdraw,
    updating_listing,
)
from aop_map.ui.results import (
    directory_columns,
    directory_rows,
    show_directory_part,
    show_record_list,
    show_records_table,
)
from aop_map.ui.shortlist import (
    PRINT_CSS,
    restore_shortlist,
    sheet_pdf,
    shortlist_adder,
    shortlist_button,
    shortlist_ids,
    show_sheet_entry,
    write_shortlist_url,
)

__all__ = [
    "APP_NAME",
    "FILTERED_PAGES",
    "PRINT_CSS",
    "SIGNATURE_TTL_S",
    "Filtered",
    "Moderator",
    "app_frame",
    "apply_filters",
    "apply_layout",
    "clear_data_cache",
    "clear_map_cache",
    "client_address",
    "current_signature",
    "describe_selection",
    "directory_columns",
    "directory_rows",
    "ensure_entrypoint",
    "field_widget",
    "field_widgets",
    "filter_labels",
    "folium_arguments",
    "get_dataset",
    "get_district_outlines",
    "get_places",
    "in_script_run",
    "md_escape",
    "show_spread",
    "show_matrix",
    "show_gaps",
    "updating_listing",
    "show_update_or_withdraw",
    "show_receipt",
    "show_preview",
    "register_form",
    "md_link",
    "moderator_login",
    "prefill_register_form",
    "provider_link",
    "put_record_in_url",
    "render_filters",
    "render_navigation",
    "requested_unknown_path",
    "restore_filters",
    "restore_shortlist",
    "set_page_title",
    "sheet_pdf",
    "shortlist_adder",
    "shortlist_button",
    "shortlist_ids",
    "show_empty",
    "show_energy_map",
    "show_lifecycle_banners",
    "show_map",
    "show_map_metrics",
    "show_messages",
    "show_not_found",
    "show_problem_reports",
    "show_provider",
    "show_directory_part",
    "show_record_list",
    "show_records_table",
    "show_report_form",
    "show_review_queue",
    "show_selection_lists",
    "show_sheet_entry",
    "show_submission",
    "show_tiles_note",
    "term_labels",
    "tiles_enabled",
    "write_shortlist_url",
]
