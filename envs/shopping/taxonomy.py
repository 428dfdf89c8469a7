"""The product taxonomy of the generated catalogue: types, attribute pools and option pools.

Shaped after WebShop's five categories and scrape queries (Yao et al., NeurIPS 2022): each
:class:`ProductType` has a query, a breadcrumb, type nouns, ITEM/PROP/USE attribute pools and
option pools. Pure data and lookups; :mod:`rewardgym.envs.shopping.catalogue` draws products from
it.
"""

from __future__ import annotations

import dataclasses

from rewardgym.envs.shopping.schema import BREADCRUMB_SEP, Product

CATEGORIES = ("beauty", "electronics", "fashion", "garden", "grocery")
ITEM, PROP, USE = "ITEM", "PROP", "USE"



@dataclasses.dataclass(frozen=True)
class OptionPool:
    """The values one option group of a product type draws from.

    Attributes:
        name: group name as shown on the item page (``"color"``, ``"size"``, ...).
        values: lower-case values, in display order.
        ordered: if true (sizes, counts) a product offers a contiguous run of values, like a
            real size chart; otherwise any subset.

    Example:
        >>> sizes = OptionPool("size", ("small", "medium", "large"), ordered=True)
        >>> sizes.name, sizes.values[-1]
        ('size', 'large')
    """

    name: str
    values: tuple[str, ...]
    ordered: bool = False


@dataclasses.dataclass(frozen=True)
class ProductType:
    """One product type (WebShop's scrape ``query``) and everything products of it draw from.

    Attributes:
        category: one of :data:`CATEGORIES`.
        query: the scrape query, e.g. ``"sofas and couches"``.
        breadcrumb: the category path, broadest first.
        nouns: noun phrases for titles; ``nouns[0]`` is in every title so products of one type
            always share a title noun (the reward's title score).
        item: ITEM attributes (parts, materials, ingredients).
        prop: PROP attributes (properties).
        use: USE attributes (uses, users, occasions).
        options: the option groups (at most 3).
        price_median: median of the log-normal price model, dollars.
        price_low: lowest price.
        price_high: highest price.

    Example:
        >>> sofas = product_type("sofas and couches")
        >>> sofas.category, sofas.nouns[0], sofas.kind_of("memory foam cushions")
        ('garden', 'sofa', 'ITEM')
        >>> sofas.product_category
        'Home & Kitchen › Furniture › Living Room Furniture › Sofas & Couches'
    """

    category: str
    query: str
    breadcrumb: tuple[str, ...]
    nouns: tuple[str, ...]
    item: tuple[str, ...]
    prop: tuple[str, ...]
    use: tuple[str, ...]
    options: tuple[OptionPool, ...]
    price_median: float
    price_low: float
    price_high: float

    @property
    def product_category(self) -> str:
        """The breadcrumb joined by :data:`BREADCRUMB_SEP`."""
        return BREADCRUMB_SEP.join(self.breadcrumb)

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every attribute of the type's pools."""
        return self.prop + self.item + self.use

    def kind_of(self, attribute: str) -> str:
        """``"ITEM"``, ``"PROP"`` or ``"USE"`` for one of the type's attributes."""
        if attribute in self.item:
            return ITEM
        if attribute in self.use:
            return USE
        if attribute in self.prop:
            return PROP
        raise KeyError(f"{attribute!r} is not an attribute of product type {self.query!r}")


# --- option pools -----------------------------------------------------------------------------

_COLORS = OptionPool("color", (
    "black", "white", "navy blue", "navy blue stripe", "light grey", "dark grey", "charcoal",
    "beige", "khaki", "red", "burgundy", "wine red", "pink", "hot pink", "rose gold", "gold",
    "silver", "green", "olive green", "army green", "mint green", "blue", "sky blue",
    "royal blue", "teal", "purple", "lavender", "yellow", "mustard yellow", "orange", "brown",
    "coffee brown", "tan", "ivory", "cream", "multicolor", "black | white", "leopard print",
    "floral print", "camo",
))
_APPAREL_SIZES = OptionPool("size", (
    "xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "3x-large",
), ordered=True)
_SHOE_SIZES = OptionPool("size", (
    "6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12", "13",
), ordered=True)
_JEAN_SIZES = OptionPool("size", (
    "28w x 30l", "30w x 30l", "30w x 32l", "32w x 30l", "32w x 32l", "34w x 32l", "36w x 32l",
    "38w x 34l",
), ordered=True)
_DENIM_COLORS = OptionPool("color", (
    "dark wash", "medium wash", "light wash", "black", "indigo", "stonewash", "grey wash",
))
_BED_SIZES = OptionPool("size", (
    "twin", "twin xl", "full", "queen", "king", "california king",
), ordered=True)
_PILLOW_SIZES = OptionPool("size", (
    "standard", "queen", "king", "18 x 18 inch", "20 x 20 inch", "body pillow",
), ordered=True)
_RUG_SIZES = OptionPool("size", (
    "2 x 3 ft", "3 x 5 ft", "4 x 6 ft", "5 x 7 ft", "6 x 9 ft", "8 x 10 ft", "9 x 12 ft",
), ordered=True)
_CURTAIN_SIZES = OptionPool("size", (
    "52 x 45 inch", "52 x 63 inch", "52 x 84 inch", "52 x 95 inch", "52 x 108 inch",
), ordered=True)
_HOSE_SIZES = OptionPool("size", ("25 ft", "50 ft", "75 ft", "100 ft", "150 ft"), ordered=True)
_CABLE_SIZES = OptionPool("size", ("1 ft", "3 ft", "6 ft", "10 ft", "15 ft"), ordered=True)
_POT_SIZES = OptionPool("size", (
    "4 inch", "6 inch", "8 inch", "10 inch", "12 inch", "14 inch",
), ordered=True)
_HAIR_LENGTHS = OptionPool("size", (
    "12 inch", "14 inch", "16 inch", "18 inch", "20 inch", "22 inch", "24 inch", "26 inch",
), ordered=True)
_WATCH_SIZES = OptionPool("size", ("38mm", "40mm", "41mm", "44mm", "45mm", "49mm"),
                          ordered=True)
_VOLUMES = OptionPool("size", (
    "1 fl oz", "3.4 fl oz", "6.76 fl oz", "8 fl oz", "12 fl oz", "16.9 fl oz", "33.8 fl oz",
), ordered=True)
_OIL_VOLUMES = OptionPool("size", (
    "8.5 fl oz", "16.9 fl oz", "25.3 fl oz", "33.8 fl oz", "68 fl oz", "101 fl oz",
), ordered=True)
_WEIGHTS = OptionPool("size", (
    "2 ounce", "4 ounce", "8 ounce", "12 ounce", "16 ounce", "1.5 pound", "2 pound", "5 pound",
), ordered=True)
_SNACK_SIZES = OptionPool("size", (
    "1 ounce (pack of 40)", "1.5 ounce (pack of 24)", "5 ounce (pack of 12)",
    "8 ounce (pack of 6)", "12 ounce (pack of 4)", "2.5 ounce (pack of 8)",
))
_COUNTS = OptionPool("count", (
    "pack of 1", "pack of 2", "pack of 3", "pack of 4", "pack of 6", "pack of 12", "pack of 24",
), ordered=True)
_FOOD_COUNTS = OptionPool("count", (
    "6 count", "12 count", "12 count (pack of 2)", "24 count", "12 ounce (pack of 6)",
    "30 count", "48 count",
), ordered=True)
_COFFEE_FLAVORS = OptionPool("flavor", (
    "french roast", "hazelnut", "vanilla", "caramel", "colombian", "breakfast blend", "mocha",
    "decaf", "pumpkin spice",
))
_TEA_FLAVORS = OptionPool("flavor", (
    "earl grey", "chamomile", "peppermint", "jasmine", "english breakfast", "lemon ginger",
    "hibiscus", "rooibos", "matcha",
))
_BAR_FLAVORS = OptionPool("flavor", (
    "chocolate chip", "peanut butter", "cookies and cream", "salted caramel", "blueberry",
    "cinnamon roll", "birthday cake", "lemon", "mint chocolate",
))
_CHIP_FLAVORS = OptionPool("flavor", (
    "sea salt", "barbecue", "sour cream and onion", "salt and vinegar", "jalapeno",
    "honey mustard", "cheddar", "original",
))
_CHOC_FLAVORS = OptionPool("flavor", (
    "dark chocolate", "milk chocolate", "mint", "sea salt caramel", "raspberry", "orange",
    "toffee", "white chocolate",
))
_JERKY_FLAVORS = OptionPool("flavor", (
    "original", "teriyaki", "peppered", "sweet and spicy", "hickory smoked", "sweet chipotle",
))
_NUT_FLAVORS = OptionPool("flavor", (
    "sea salt", "honey roasted", "smoked", "chili lime", "unflavored", "maple",
))
_SCENTS = OptionPool("scent", (
    "lavender", "vanilla", "eucalyptus", "coconut", "citrus", "unscented", "rose", "sandalwood",
))
_HAIR_COLORS = OptionPool("color", (
    "natural black", "jet black", "dark brown", "medium brown", "ash blonde",
    "platinum blonde", "burgundy", "ombre brown", "honey blonde",
))
_LIP_COLORS = OptionPool("color", (
    "nude", "rose pink", "classic red", "berry", "coral", "mauve", "plum", "brick red",
    "peach",
))
_METAL_COLORS = OptionPool("color", ("gold", "silver", "rose gold", "white gold", "black"))
_PHONE_MODELS = OptionPool("style", (
    "iphone 13", "iphone 13 pro", "iphone 14", "iphone 14 pro max", "iphone 15",
    "galaxy s23", "galaxy s23 ultra", "pixel 7", "pixel 8",
))
_SOFA_STYLES = OptionPool("style", ("loveseat", "3 seat", "sectional", "sleeper", "chaise"))
_CHAIR_STYLES = OptionPool("style", (
    "with armrests", "without armrests", "with footrest", "big and tall",
))
_KEYBOARD_STYLES = OptionPool("style", ("full size", "tenkeyless", "60 percent", "75 percent"))
_HEADPHONE_STYLES = OptionPool("style", ("standard", "with case", "pro edition", "kids edition"))
_CAMERA_COUNTS = OptionPool("count", ("1 camera", "2 cameras", "3 cameras", "4 cameras"),
                            ordered=True)
_PANEL_COUNTS = OptionPool("count", ("1 panel", "2 panels", "4 panels"), ordered=True)
_EARRING_STYLES = OptionPool("style", ("stud", "hoop", "drop", "huggie", "dangle"))
_TOOTHBRUSH_COUNTS = OptionPool("count", ("1 handle", "2 handles", "1 handle + 4 heads"),
                                ordered=True)


def _split(text: str) -> tuple[str, ...]:
    """``"a, b c, d"`` -> ``("a", "b c", "d")``: attribute pools are written as one string."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _type(category: str, query: str, crumb: str, nouns: str, *, item: str, prop: str, use: str,
          options: tuple[OptionPool, ...], price: tuple[float, float, float]) -> ProductType:
    median, low, high = price
    return ProductType(category=category, query=query,
                       breadcrumb=tuple(s.strip() for s in crumb.split(">")),
                       nouns=_split(nouns), item=_split(item), prop=_split(prop), use=_split(use),
                       options=options, price_median=median, price_low=low, price_high=high)


# --- taxonomy ---------------------------------------------------------------------------------
# Rules the tests hold these pools to: no attribute of a type is a substring of another of the
# same type, of a type noun, of the query or of the filler text, so an attribute is visible in a
# product's text exactly when the product has it.

TAXONOMY: tuple[ProductType, ...] = (
    # beauty
    _type("beauty", "shampoo and conditioner",
          "Beauty & Personal Care > Hair Care > Shampoo & Conditioner > Shampoos", "shampoo",
          item="argan oil, tea tree oil, coconut milk, biotin complex, keratin protein, "
               "aloe vera extract, rosemary mint",
          prop="sulfate free, paraben free, cruelty free, color safe, vegan formula, "
               "salon quality, natural ingredients",
          use="dry hair, curly hair, damaged hair, thinning hair, oily scalp, daily use",
          options=(_VOLUMES, _COUNTS), price=(14, 5, 60)),
    _type("beauty", "face moisturizers",
          "Beauty & Personal Care > Skin Care > Face > Moisturizers", "moisturizer, cream",
          item="hyaluronic acid, vitamin c, shea butter, retinol complex, niacinamide, "
               "ceramide blend, spf 30",
          prop="fragrance free, oil free, non greasy, dermatologist tested, hypoallergenic, "
               "fast absorbing",
          use="sensitive skin, dry skin, fine lines, dark spots, night time, acne prone skin",
          options=(_VOLUMES,), price=(22, 6, 120)),
    _type("beauty", "lipstick", "Beauty & Personal Care > Makeup > Lips > Lipstick", "lipstick",
          item="matte finish, satin finish, vitamin e, jojoba oil, mineral pigments",
          prop="long lasting, highly pigmented, transfer proof, smudge proof, "
               "moisturizing formula, cruelty free",
          use="everyday wear, special occasions, dry lips, evening parties",
          options=(_LIP_COLORS, _COUNTS), price=(12, 4, 45)),
    _type("beauty", "hair extensions and wigs",
          "Beauty & Personal Care > Hair Care > Hair Extensions, Wigs & Accessories > Wigs",
          "wig",
          item="human hair, lace front, heat resistant fiber, adjustable straps, baby hair",
          prop="natural looking, pre plucked, glueless, tangle free, soft touch",
          use="daily wear, cosplay parties, black women, hair loss",
          options=(_HAIR_COLORS, _HAIR_LENGTHS), price=(45, 15, 300)),
    _type("beauty", "nail polish",
          "Beauty & Personal Care > Foot, Hand & Nail Care > Nail Art & Polish > Nail Polish",
          "nail polish",
          item="gel formula, glitter flakes, chrome effect, base coat",
          prop="quick dry, chip resistant, non toxic, high shine, long wear",
          use="home manicure, nail art, salon use, short nails",
          options=(_COLORS, _COUNTS), price=(9, 3, 35)),
    _type("beauty", "electric toothbrushes",
          "Beauty & Personal Care > Oral Care > Toothbrushes & Accessories > "
          "Electric Toothbrushes", "toothbrush",
          item="sonic motor, soft bristles, charcoal bristles, pressure sensor, travel case, "
               "replacement heads",
          prop="rechargeable battery, waterproof design, smart timer, whisper quiet",
          use="sensitive gums, teeth whitening, plaque removal, braces care",
          options=(_COLORS, _TOOTHBRUSH_COUNTS), price=(35, 12, 180)),
    _type("beauty", "scrubs and body treatments",
          "Beauty & Personal Care > Skin Care > Body > Scrubs & Body Treatments",
          "body scrub, exfoliator",
          item="dead sea salt, brown sugar, coffee grounds, jojoba beads, coconut oil, "
               "shea butter",
          prop="oil free, clinically proven, paraben free, exfoliating, all natural",
          use="dead skin, ingrown hairs, rough elbows, stretch marks, cellulite",
          options=(_WEIGHTS, _SCENTS), price=(16, 5, 60)),
    _type("beauty", "perfumes", "Beauty & Personal Care > Fragrance > Women's > Eau de Parfum",
          "perfume",
          item="vanilla notes, citrus notes, sandalwood base, jasmine petals, amber accord",
          prop="long lasting, alcohol free, travel size, refillable bottle",
          use="date night, evening wear, office wear, summer days",
          options=(_VOLUMES, _COUNTS), price=(45, 10, 200)),
    # electronics
    _type("electronics", "headphones",
          "Electronics > Headphones, Earbuds & Accessories > Headphones > Over-Ear Headphones",
          "headphones",
          item="active noise cancelling, bluetooth 5.3, memory foam ear cushions, "
               "built in microphone, hi res audio drivers",
          prop="wireless, foldable design, long battery life, lightweight, fast charging",
          use="gaming, air travel, workouts, home office, online classes",
          options=(_COLORS, _HEADPHONE_STYLES), price=(60, 15, 400)),
    _type("electronics", "smart watches",
          "Electronics > Wearable Technology > Smartwatches > Fitness Smartwatches",
          "smart watch",
          item="heart rate monitor, blood oxygen sensor, built in gps, amoled display, "
               "sleep tracking",
          prop="waterproof, long battery life, bluetooth calling, customizable faces",
          use="fitness tracking, swimming, outdoor running, android phones",
          options=(_COLORS, _WATCH_SIZES), price=(80, 25, 400)),
    _type("electronics", "phone cases",
          "Cell Phones & Accessories > Cases, Holsters & Sleeves > Cases > Basic Cases",
          "phone case",
          item="shockproof bumper, card holder slot, built in kickstand, "
               "tempered glass screen protector, magnetic ring",
          prop="slim fit, wireless charging compatible, anti scratch, "
               "military grade drop protection, clear back",
          use="everyday protection, outdoor sports, car mounts",
          options=(_COLORS, _PHONE_MODELS), price=(15, 6, 50)),
    _type("electronics", "usb cables",
          "Electronics > Computers & Accessories > Cables & Accessories > USB Cables", "cable",
          item="usb c connector, lightning connector, braided nylon jacket, aluminum housing, "
               "led indicator",
          prop="fast charging, tangle free, high speed data transfer, mfi certified",
          use="car charging, samsung galaxy phones, ipad pro, laptop charging",
          options=(_COLORS, _CABLE_SIZES, _COUNTS), price=(12, 5, 40)),
    _type("electronics", "bluetooth speakers",
          "Electronics > Portable Audio & Video > Portable Speakers & Docks > "
          "Bluetooth Speakers", "speaker",
          item="stereo pairing, deep bass, 360 degree sound, built in microphone, aux input",
          prop="portable, waterproof, long battery life, rugged design, usb c charging",
          use="outdoor parties, beach trips, camping, showers",
          options=(_COLORS,), price=(45, 15, 300)),
    _type("electronics", "computer keyboards",
          "Electronics > Computers & Accessories > Computer Accessories & Peripherals > "
          "Keyboards", "keyboard",
          item="mechanical switches, rgb backlight, wrist rest, numeric keypad, media keys, "
               "usb receiver",
          prop="wireless, ergonomic design, quiet typing, spill resistant, hot swappable",
          use="gaming, office work, mac os, windows pc, programmers",
          options=(_COLORS, _KEYBOARD_STYLES), price=(50, 15, 200)),
    _type("electronics", "security cameras",
          "Electronics > Camera & Photo > Video Surveillance > Surveillance Cameras",
          "security camera",
          item="night vision, two way audio, motion detection, 2k resolution, cloud storage, "
               "solar panel",
          prop="wireless, weatherproof, easy installation, battery powered",
          use="home security, baby monitoring, outdoor use, pet watching",
          options=(_CAMERA_COUNTS,), price=(60, 20, 300)),
    # fashion
    _type("fashion", "men's t-shirts", "Clothing, Shoes & Jewelry > Men > Clothing > T-Shirts",
          "t-shirt, tee",
          item="cotton blend, crew neck, v neck, short sleeve, moisture wicking fabric, "
               "tagless collar",
          prop="machine washable, slim fit, regular fit, quick dry, breathable",
          use="gym workouts, casual wear, summer outings, everyday wear",
          options=(_COLORS, _APPAREL_SIZES), price=(18, 6, 60)),
    _type("fashion", "women's dresses", "Clothing, Shoes & Jewelry > Women > Clothing > Dresses",
          "dress",
          item="floral pattern, v neckline, puff sleeves, smocked waist, side pockets, "
               "chiffon lining",
          prop="flowy, loose fit, knee length, maxi length, lightweight fabric",
          use="summer beach, wedding guest, cocktail party, office days",
          options=(_COLORS, _APPAREL_SIZES), price=(35, 12, 120)),
    _type("fashion", "sneakers", "Clothing, Shoes & Jewelry > Men > Shoes > Fashion Sneakers",
          "sneakers, shoes",
          item="breathable mesh upper, memory foam insole, rubber outsole, arch support, "
               "lace up closure",
          prop="non slip, lightweight, shock absorbing, wide width",
          use="walking, gym training, tennis, jogging",
          options=(_COLORS, _SHOE_SIZES), price=(55, 20, 160)),
    _type("fashion", "men's jeans", "Clothing, Shoes & Jewelry > Men > Clothing > Jeans", "jeans",
          item="stretch denim, five pockets, button fly, distressed knees, zip fly",
          prop="slim fit, straight leg, relaxed fit, high rise, machine washable",
          use="casual wear, weekend outings, office days, western riding",
          options=(_DENIM_COLORS, _JEAN_SIZES), price=(40, 15, 120)),
    _type("fashion", "women's sweatpants",
          "Clothing, Shoes & Jewelry > Women > Clothing > Active Pants", "sweatpants, joggers",
          item="elastic waistband, drawstring, side pockets, fleece lining, tapered leg",
          prop="relaxed fit, high waisted, soft fabric, breathable",
          use="yoga, lounging, workout, jogging",
          options=(_COLORS, _APPAREL_SIZES), price=(28, 10, 70)),
    _type("fashion", "men's hoodies",
          "Clothing, Shoes & Jewelry > Men > Clothing > Active Hoodies", "hoodie, sweatshirt",
          item="kangaroo pocket, full zip, fleece lining, adjustable hood, ribbed cuffs",
          prop="pullover, oversized fit, heavyweight, pre shrunk",
          use="cold weather, camping trips, gym, casual wear",
          options=(_COLORS, _APPAREL_SIZES), price=(35, 15, 90)),
    _type("fashion", "women's earrings",
          "Clothing, Shoes & Jewelry > Women > Jewelry > Earrings", "earrings",
          item="sterling silver posts, cubic zirconia, freshwater pearls, 14k gold plating, "
               "hoop design",
          prop="hypoallergenic, nickel free, lightweight, handmade",
          use="sensitive ears, wedding day, daily wear, birthday gifts",
          options=(_METAL_COLORS, _EARRING_STYLES), price=(25, 8, 150)),
    _type("fashion", "athletic socks",
          "Clothing, Shoes & Jewelry > Men > Clothing > Socks & Hosiery", "socks",
          item="cushioned sole, arch compression, reinforced heel, merino wool, ankle cut",
          prop="moisture wicking, breathable, odor resistant, seamless toe",
          use="hiking, running, everyday wear, diabetic feet",
          options=(_COLORS, _APPAREL_SIZES, _COUNTS), price=(15, 6, 40)),
    # garden (home, furniture and garden)
    _type("garden", "sofas and couches",
          "Home & Kitchen > Furniture > Living Room Furniture > Sofas & Couches", "sofa, couch",
          item="memory foam cushions, solid wood frame, velvet upholstery, removable covers, "
               "storage chaise",
          prop="easy assembly, modern design, mid century, convertible, high density",
          use="living room, small spaces, apartment, office lobby",
          options=(_COLORS, _SOFA_STYLES), price=(420, 150, 1500)),
    _type("garden", "bed sheets",
          "Home & Kitchen > Bedding > Sheets & Pillowcases > Sheet & Pillowcase Sets", "sheets",
          item="egyptian cotton, deep pockets, bamboo viscose, microfiber weave, "
               "embroidered hem",
          prop="wrinkle resistant, cooling, machine washable, hypoallergenic, fade resistant",
          use="hot sleepers, guest room, kids room, all seasons",
          options=(_COLORS, _BED_SIZES), price=(40, 15, 160)),
    _type("garden", "bed pillows",
          "Home & Kitchen > Bedding > Bed Pillows & Positioners > Bed Pillows", "pillow",
          item="shredded memory foam, down alternative fill, cooling gel, bamboo cover, "
               "adjustable loft",
          prop="hypoallergenic, washable, firm support, plush feel, breathable",
          use="side sleepers, back sleepers, neck pain, stomach sleepers",
          options=(_PILLOW_SIZES, _COUNTS), price=(35, 12, 120)),
    _type("garden", "area rugs",
          "Home & Kitchen > Home Decor > Rugs, Pads & Protectors > Area Rugs", "area rug, rug",
          item="non slip backing, low pile, shag pile, jute fibers, geometric pattern",
          prop="stain resistant, machine washable, pet friendly, fade resistant",
          use="living room, bedroom, dining room, high traffic areas",
          options=(_COLORS, _RUG_SIZES), price=(90, 25, 600)),
    _type("garden", "curtains",
          "Home & Kitchen > Home Decor > Window Treatments > Curtains & Drapes", "curtains",
          item="grommet top, thermal insulated lining, linen texture, rod pocket, tiebacks",
          prop="blackout, light filtering, noise reducing, energy saving",
          use="bedroom, living room, nursery, sliding doors",
          options=(_COLORS, _CURTAIN_SIZES, _PANEL_COUNTS), price=(30, 10, 100)),
    _type("garden", "office chairs",
          "Home & Kitchen > Furniture > Home Office Furniture > Desk Chairs", "office chair",
          item="lumbar support, mesh back, padded armrests, headrest, rolling casters",
          prop="ergonomic, adjustable height, swivel, high back, easy assembly",
          use="home office, gaming, long hours, conference rooms",
          options=(_COLORS, _CHAIR_STYLES), price=(150, 50, 600)),
    _type("garden", "garden hoses",
          "Patio, Lawn & Garden > Watering Equipment > Hoses > Garden Hoses", "garden hose",
          item="brass fittings, spray nozzle, latex core, storage bag",
          prop="expandable, kink free, lightweight, leak proof, heavy duty",
          use="watering plants, car washing, lawn care, patio cleaning",
          options=(_COLORS, _HOSE_SIZES), price=(35, 12, 120)),
    _type("garden", "planters",
          "Patio, Lawn & Garden > Gardening & Lawn Care > Pots & Planters > Planters",
          "planter",
          item="drainage holes, saucer tray, ceramic glaze, self watering reservoir, "
               "hanging chain",
          prop="frost resistant, minimalist design, handmade, uv resistant",
          use="indoor plants, succulents, herbs, balcony gardens",
          options=(_COLORS, _POT_SIZES, _COUNTS), price=(28, 8, 120)),
    # grocery
    _type("grocery", "ground coffee",
          "Grocery & Gourmet Food > Beverages > Coffee > Ground Coffee", "coffee",
          item="arabica beans, medium roast, dark roast, whole bean, single origin",
          prop="usda organic, fair trade, low acid, kosher, non gmo",
          use="drip coffee makers, french press, espresso machines, cold brew",
          options=(_COFFEE_FLAVORS, _WEIGHTS), price=(15, 6, 45)),
    _type("grocery", "herbal tea", "Grocery & Gourmet Food > Beverages > Tea > Herbal Tea", "tea",
          item="loose leaf, individually wrapped bags, whole leaf, pyramid sachets",
          prop="caffeine free, usda organic, non gmo, no artificial flavors",
          use="relaxation, better sleep, digestion, iced tea",
          options=(_TEA_FLAVORS, _FOOD_COUNTS), price=(9, 3, 35)),
    _type("grocery", "protein bars",
          "Grocery & Gourmet Food > Snack Foods > Bars > Protein Bars", "protein bars",
          item="whey isolate, almond butter, dark chocolate chunks, collagen peptides, "
               "plant based protein",
          prop="gluten free, keto friendly, low sugar, non gmo, high fiber",
          use="post workout, meal replacement, on the go snacking, weight loss",
          options=(_BAR_FLAVORS, _FOOD_COUNTS), price=(22, 6, 60)),
    _type("grocery", "potato chips",
          "Grocery & Gourmet Food > Snack Foods > Chips & Crisps > Potato Chips", "chips",
          item="kettle cooked, thick cut, avocado oil, wavy ridges, real potatoes",
          prop="gluten free, non gmo, no msg, vegan",
          use="lunch boxes, party snacks, game day, road trips",
          options=(_CHIP_FLAVORS, _SNACK_SIZES), price=(18, 4, 45)),
    _type("grocery", "mixed nuts",
          "Grocery & Gourmet Food > Snack Foods > Nuts & Seeds > Mixed Nuts", "nuts",
          item="roasted almonds, cashews, pistachios, macadamia halves, pecan pieces",
          prop="lightly salted, unsalted, keto friendly, resealable bag",
          use="healthy snacking, baking, trail mix, holiday gifts",
          options=(_NUT_FLAVORS, _WEIGHTS), price=(16, 5, 50)),
    _type("grocery", "chocolate bars",
          "Grocery & Gourmet Food > Candy & Chocolate > Chocolate > Chocolate Bars",
          "chocolate bar",
          item="70% cacao, almond pieces, sea salt crystals, caramel filling, crispy rice",
          prop="fair trade, dairy free, sugar free, individually wrapped, kosher",
          use="gift baskets, baking, valentines day, movie nights",
          options=(_CHOC_FLAVORS, _COUNTS), price=(14, 3, 50)),
    _type("grocery", "olive oil",
          "Grocery & Gourmet Food > Cooking & Baking > Oils & Vinegars > Olive Oil", "olive oil",
          item="cold pressed, extra virgin, first harvest, glass bottle, koroneiki olives",
          prop="usda organic, non gmo, single origin, unfiltered",
          use="salad dressing, high heat cooking, dipping bread, marinades",
          options=(_OIL_VOLUMES, _COUNTS), price=(18, 7, 60)),
    _type("grocery", "beef jerky",
          "Grocery & Gourmet Food > Meat & Seafood > Jerky & Dried Meats > Beef Jerky",
          "beef jerky",
          item="grass fed beef, small batch, thick cut strips, natural smoke",
          prop="high protein, low fat, gluten free, no preservatives",
          use="hiking trips, road trips, post workout, camping",
          options=(_JERKY_FLAVORS, _WEIGHTS, _COUNTS), price=(14, 5, 45)),
)

_TYPE_BY_QUERY: dict[str, ProductType] = {t.query: t for t in TAXONOMY}


def product_type(query: str) -> ProductType | None:
    """The taxonomy entry whose query is ``query``, or ``None`` (e.g. imported WebShop data)."""
    return _TYPE_BY_QUERY.get(query)


def attribute_kind(product: Product, attribute: str) -> str:
    """``"ITEM"``, ``"PROP"`` or ``"USE"`` for one of a generated product's attributes.

    Attributes of products outside the taxonomy (imported data) count as ``"PROP"``.
    """
    ptype = product_type(product.query)
    if ptype is None or attribute not in ptype.attributes:
        return PROP
    return ptype.kind_of(attribute)
