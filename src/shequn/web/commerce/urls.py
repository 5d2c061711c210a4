"""URLs of the business model pages, under /c/<slug>/commerce/."""

from django.urls import path

from shequn.web.commerce import costs, offers, purchases, views

urlpatterns = [
    path("", views.business, name="commerce"),
    path("import/", views.import_orders, name="commerce_import"),
    path("tickets/", views.import_tickets, name="commerce_tickets"),
    path("offers/", offers.offers, name="commerce_offers"),
    path("offers/new/", offers.offer_new, name="commerce_offer_new"),
    path("offers/<int:offer_id>/edit/", offers.offer_edit, name="commerce_offer_edit"),
    path("offers/<int:offer_id>/active/", offers.offer_active, name="commerce_offer_active"),
    path("purchases/", purchases.purchases, name="commerce_purchases"),
    path("purchases.csv", purchases.purchases_csv, name="commerce_purchases_csv"),
    path("purchases/new/", purchases.purchase_new, name="commerce_purchase_new"),
    path("purchases/<int:purchase_id>/", purchases.purchase_page, name="commerce_purchase"),
    path(
        "purchases/<int:purchase_id>/refund/",
        purchases.purchase_refund,
        name="commerce_purchase_refund",
    ),
    path("costs/", costs.costs, name="commerce_costs"),
    path("costs/new/", costs.cost_new, name="commerce_cost_new"),
    path("costs/<int:cost_id>/delete/", costs.cost_delete, name="commerce_cost_delete"),
]
