from django.urls import path

from catalog import apis

urlpatterns = [
    path("products/", apis.ProductListApi.as_view(), name="products"),
    path("products/<id:product_id>/", apis.ProductDetailApi.as_view(), name="product"),
    path("category/", apis.CategoryListApi.as_view(), name="categories"),
    path("category/<id:category_id>/", apis.CategoryDetailApi.as_view(), name="category"),
    path("internal/products/", apis.ProductBatchApi.as_view(), name="internal-products"),
    path("internal/stock/reserve/", apis.ReserveStockApi.as_view(), name="reserve-stock"),
    path("internal/stock/commit/", apis.CommitStockApi.as_view(), name="commit-stock"),
    path("internal/stock/release/", apis.ReleaseStockApi.as_view(), name="release-stock"),
]
