"""A team's data products, kept by its operators on the team's page: a product by name, and
its definitions on any of the team's backends. A product a rule holds is not deleted: the
rule would widen to the whole team."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from instances.models import MOST_PARTS, Backend, DataProduct, ProductPart
from instances.people import roles
from instances.people.models import Role

NAME_LENGTH = DataProduct._meta.get_field("name").max_length
DEFINITION_LENGTH = ProductPart._meta.get_field("definition_id").max_length


@require_POST
def manage_products(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(roles.teams_where(request.user, Role.OPERATOR), pk=pk)
    action, products = request.POST.get("action"), team.data_products.all()
    if action == "add_product":
        name = " ".join(request.POST.get("name", "").split())
        if not name or len(name) > (NAME_LENGTH or 0):
            messages.error(request, gettext("Give the product a name of at most 100 characters."))
        elif not team.data_products.get_or_create(name=name)[1]:
            messages.error(request, gettext("The team has a product of that name already."))
    elif action == "add_part":
        product = get_object_or_404(products, pk=request.POST.get("product") or 0)
        backend = Backend.objects.filter(team=team, pk=request.POST.get("backend") or 0).first()
        definition = request.POST.get("definition", "").strip()
        if backend is None or not definition or len(definition) > (DEFINITION_LENGTH or 0):
            messages.error(request, gettext("Choose one of the team's backends and a definition."))
        elif product.parts.count() >= MOST_PARTS:
            messages.error(
                request,
                gettext("A data product holds {most} definitions at most.").format(most=MOST_PARTS),
            )
        else:
            product.parts.get_or_create(backend=backend, definition_id=definition)
    elif action == "remove_part":
        ProductPart.objects.filter(product__in=products, pk=request.POST.get("part") or 0).delete()
    elif action == "delete_product":
        product = get_object_or_404(products, pk=request.POST.get("product") or 0)
        if product.rules.exists():
            messages.error(
                request, gettext("A rule holds this product: change or delete the rule first.")
            )
        else:
            product.delete()
    return redirect(reverse("team", args=[team.pk]) + "#products")
