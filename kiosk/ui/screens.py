"""The registry of the kiosk's screens. It imports nothing, so any module may read it without
pulling in Kivy."""

# Screen name → "module:Class"; modules (and their .kv files) load on first visit.
SCREENS = {
    "home": "kiosk.ui.home:HomeScreen",
    "notices": "kiosk.ui.notices:NoticesScreen",
    "register": "kiosk.ui.register:RegisterScreen",
    "rating": "kiosk.ui.rating:RatingScreen",
    "guides": "kiosk.ui.guides:GuidesScreen",
    "request": "kiosk.ui.request:RequestScreen",
    "check": "kiosk.ui.check:CheckScreen",
    "call": "kiosk.ui.call:CallScreen",
    "volunteer": "kiosk.ui.volunteer:VolunteerScreen",
}
