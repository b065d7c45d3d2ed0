import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Patch,
  Put,
} from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { LineSettingsStore } from '../settings/line-settings.store';
import { ApiController } from './api-controller.decorator';
import { ApiErrors } from './api-responses.decorator';
import { RequireScope } from './api-scopes.decorator';
import { LineParams } from './dto/lines.dto';
import { LineSettingsDto, LineSettingsPatchDto } from './dto/settings.dto';
import { LINE_PARAM } from './lines.controller';

function noSettings(line: string): NotFoundException {
  return new NotFoundException({
    message: `no settings are stored for line ${line}`,
    code: 'NO_SETTINGS',
  });
}

@ApiTags('settings')
@ApiController()
@Controller('api/v1/lines/:line/settings')
export class SettingsController {
  constructor(private readonly store: LineSettingsStore) {}

  @Get()
  @RequireScope('read', 'settings')
  @LINE_PARAM
  @ApiOperation({ summary: "The line's stored settings" })
  @ApiResponse({ status: 200, type: LineSettingsDto })
  @ApiErrors(400, 404, 503)
  async get(@Param() p: LineParams): Promise<LineSettingsDto> {
    const s = await this.store.get(p.line);
    if (!s) throw noSettings(p.line);
    return s;
  }

  @Put()
  @RequireScope('settings')
  @LINE_PARAM
  @ApiOperation({
    summary: "Replace the line's settings",
    description:
      'Fields left out are removed. Used by the next OpenConnection of the line and the next originate.',
  })
  @ApiResponse({ status: 200, type: LineSettingsDto, description: 'What is stored now.' })
  @ApiErrors(400, 503)
  put(@Param() p: LineParams, @Body() dto: LineSettingsDto): Promise<LineSettingsDto> {
    return this.store.put(p.line, dto);
  }

  @Patch()
  @RequireScope('settings')
  @LINE_PARAM
  @ApiOperation({
    summary: "Change some of the line's settings",
    description: 'Fields left out are kept; a field set to null is removed.',
  })
  @ApiResponse({ status: 200, type: LineSettingsDto, description: 'What is stored now.' })
  @ApiErrors(400, 503)
  patch(@Param() p: LineParams, @Body() dto: LineSettingsPatchDto): Promise<LineSettingsDto> {
    return this.store.patch(p.line, dto);
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequireScope('settings')
  @LINE_PARAM
  @ApiOperation({ summary: "Remove the line's settings (the global configuration applies again)" })
  @ApiResponse({ status: 204, description: 'Removed.' })
  @ApiErrors(400, 404, 503)
  async delete(@Param() p: LineParams): Promise<void> {
    if (!(await this.store.delete(p.line))) throw noSettings(p.line);
  }
}
