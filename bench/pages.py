"""Deterministic French small-business pages of a chosen size for the rewrite benchmark.

Each page has what real pages have around a phone number: a head with meta tags,
stylesheets, inline CSS, scripts and JSON-LD; a body with a top bar, a nav,
articles, tables, lists, image cards with srcset, reviews, a contact card and a
footer; digits everywhere (prices, dates, CSS sizes, ids, coordinates). Exactly
five occurrences of the configured numbers are rewritable (a tel: link and its
text, a card, a dotted form and an international form); the same numbers also
stand where they must not change (JSON-LD, a script string, alt and data-*
attributes, a comment) next to decoys that share their digits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

ORIGINALS = ("04 90 26 07 16", "01 99 00 42 17")
TRACKINGS = ("08 99 12 34 56", "08 99 65 43 21")
OCCURRENCES = 5

HEAD = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plomberie Durand &ndash; Dépannage 7j/7 à Avignon</title>
<meta name="description" content="Plombier chauffagiste à Avignon depuis 1987. Devis gratuit.">
<link rel="stylesheet" href="/static/css/main.3f9a1c.css?v=20260114">
<link rel="icon" href="/favicon-32x32.png" sizes="32x32">
<style>
.top-bar{height:42px;padding:0 16px;background:#0b3d5c}.card{margin:12px 0 24px;flex:1 1 320px}
@media (max-width: 768px){.nav li{padding:8px 12px}.hero{min-height:240px}}
.price::after{content:" €"}.grid{grid-template-columns:repeat(3,minmax(0,1fr));gap:18px}
</style>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-4X90B2607Q"></script>
<script>
window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}
gtag('js',new Date());gtag('config','G-4X90B2607Q',{page_id:490260716,ts:1736870400});
var support={tel:"04 90 26 07 16",hours:[8,12,14,19],zip:"84000"};
</script>
<script type="application/ld+json">
{"@context":"https://schema.org","@type":"Plumber","name":"Plomberie Durand",
"telephone":"+33 4 90 26 07 16","faxNumber":"+33 1 99 00 42 17",
"geo":{"latitude":43.9493,"longitude":4.8055},"priceRange":"45-320 €",
"openingHours":["Mo-Fr 08:00-19:00","Sa 09:00-12:30"]}
</script>
</head>
<body class="page-id-2327 single-format-standard">
<!-- build 2026.01.14-r4521 · ancien standard 04 90 26 07 16 -->
<div class="top-bar"><a class="tel" href="tel:+33490260716">04 90 26 07 16</a>
<span class="hours">Lun–Ven 8h–19h · Sam 9h–12h30</span></div>
<nav class="nav"><ul>
<li><a href="/">Accueil</a></li><li><a href="/depannage-24h/">Dépannage</a></li>
<li><a href="/chauffe-eau-200l/">Chauffe-eau</a></li><li><a href="/tarifs-2026/">Tarifs</a></li>
<li><a href="/contact/?ref=nav-04">Contact</a></li></ul></nav>
"""

SECTIONS = (
    """<article class="post post-{i}"><h2>Intervention n°{n} du {d:02d}/{m:02d}/2026</h2>
<p>Remplacement d'un ballon de {v} L, mitigeur thermostatique et groupe de sécurité
({p},90 € TTC, TVA 10 %). Déplacement offert dans un rayon de {k} km autour d'Avignon.</p>
<p>Réf. chantier {r}-{i:04d}, garantie {g} ans, pièces d'origine. Le technicien a
contrôlé la pression du réseau ({g},{h} bar), vérifié l'étanchéité des raccords et
purgé l'installation avant la remise en eau. Un contrat d'entretien annuel est
proposé à partir de {q} € par an, visite de contrôle comprise, avec un délai
d'intervention garanti de {k} heures en semaine et une remise de {h}0 % sur les
pièces détachées pour les abonnés depuis plus de {g} ans.</p></article>
""",
    """<table class="tarifs"><caption>Tarifs {y}</caption>
<tr><th>Prestation</th><th>Prix</th><th>Délai</th></tr>
<tr><td>Débouchage</td><td class="price">{p},00</td><td>{h} h</td></tr>
<tr><td>Recherche de fuite</td><td class="price">{q},50</td><td>{k} h</td></tr>
<tr><td>Détartrage</td><td class="price">{v},00</td><td>48 h</td></tr></table>
""",
    """<div class="card"><img src="/img/chantier-{i}.jpg" alt="Chantier {r}, salle de bains"
srcset="/img/chantier-{i}-320.jpg 320w, /img/chantier-{i}-768.jpg 768w,
 /img/chantier-{i}-1280.jpg 1280w"
sizes="(max-width: 768px) 100vw, 33vw" width="1280" height="853" loading="lazy">
<p class="caption" data-id="{n}" data-geo="43.94{k},4.80{h}">Avignon {z} – {d} {mois} 2026</p></div>
""",
    """<ul class="reviews"><li><span class="stars" data-score="4.{h}">★★★★☆</span>
« Rapide et propre, {p} € comme annoncé » — Client n°{r}</li>
<li><span class="stars" data-score="5.0">★★★★★</span> « Venu en {k} minutes un dimanche »</li></ul>
""",
    """<p class="decoys">Commande 2{o} · SIRET 490 260 716 000{g}{h} · IBAN FR76 3000 4{o}
· ancienne ligne 04 90 26 07 {g}{h} · Suivi 0{o}123 · Tél. Espagne +34 4 90 26 07 16</p>
""",
)
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin")

CONTACT = """<section class="contact-card"><h2>Nous contacter</h2>
<p>Standard : <strong>04.90.26.07.16</strong></p>
<p>Urgences : <span class="phone">01 99 00 42 17</span></p>
<img src="/img/equipe.jpg" alt="Appelez le 04 90 26 07 16" data-phone="01 99 00 42 17">
</section>
"""

FOOTER = """<footer><p>Plomberie Durand · 12 rue des Teinturiers · 84000 Avignon ·
Depuis l'étranger : +33 1 99 00 42 17</p>
<p class="legal">Mentions légales · RCS Avignon 490 260 716 · Capital 7 500 €</p>
<script src="/static/js/app.8c21f0.js" defer></script>
</footer>
</body>
</html>
"""


@dataclass(frozen=True)
class GeneratedPage:
    name: str
    body: bytes
    occurrences: int


def section(rng: random.Random, i: int) -> str:
    template = SECTIONS[i % len(SECTIONS)]
    values = {
        "i": i, "n": rng.randint(1000, 99999), "d": rng.randint(1, 28), "m": rng.randint(1, 12),
        "v": rng.choice((100, 150, 200, 300)), "p": rng.randint(80, 2400), "k": rng.randint(5, 60),
        "r": rng.randint(100, 999), "g": rng.randint(2, 9), "y": 2026, "h": rng.randint(1, 9),
        "q": rng.randint(90, 400), "z": 84000 + rng.randint(0, 99), "mois": rng.choice(MONTHS),
        "o": rng.randint(10**9, 10**10 - 1),
    }  # fmt: skip
    return template.format(**values)


def generate(size: int, seed: int = 7) -> bytes:
    """A page of about `size` bytes (never less) with five rewritable occurrences."""
    rng = random.Random(seed)
    fixed = len((HEAD + CONTACT + FOOTER).encode())
    parts: list[str] = []
    length, i = fixed, 0
    while length < size:
        part = section(rng, i)
        parts.append(part)
        length += len(part.encode())
        i += 1
    middle = len(parts) // 2
    body = HEAD + "".join(parts[:middle]) + CONTACT + "".join(parts[middle:]) + FOOTER
    return body.encode()


SIZES = (("20 KB", 20_000), ("100 KB", 100_000), ("1 MB", 1_000_000))


def generated_pages() -> list[GeneratedPage]:
    return [GeneratedPage(name, generate(size), OCCURRENCES) for name, size in SIZES]
