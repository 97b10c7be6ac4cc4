// Local wall-clock strings in the API's formats (reference §1: "YYYY-MM-DD HH:MM:SS", local time).
#pragma once

#include <string>

namespace sim {

std::string now_local_datetime();  // "YYYY-MM-DD HH:MM:SS"
std::string today_local_date();    // "YYYY-MM-DD"

// True for "" or "YYYY-MM-DD" optionally followed by " HH:MM:SS" (shape only).
bool is_date_or_datetime(const std::string& s);

}  // namespace sim
